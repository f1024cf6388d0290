//! Operators on `Delayed`s build nodes, like Dask's `x + y` on delayed objects.
//!
//! Between two `Delayed`s (owned or borrowed) any types that implement the operator work;
//! with a plain operand on either side, the primitive number types do (a plain number on
//! the left with a `Delayed` of its own type).

use super::{Arg, Delayed, node};
use std::ops::{Add, BitAnd, BitOr, BitXor, Div, Mul, Neg, Not, Rem, Shl, Shr, Sub};

fn binary<L, R, O>(name: &'static str, lhs: Arg<L>, rhs: Arg<R>, op: fn(L, R) -> O) -> Delayed<O>
where
    L: Clone + Send + Sync + 'static,
    R: Clone + Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    node(name, (lhs, (rhs, ())), move |(l, (r, ())), inputs| {
        Ok(op(l.take(inputs)?, r.take(inputs)?))
    })
}

macro_rules! binary_op {
    ($Trait:ident, $method:ident, $name:literal; $($prim:ty),*; $($lhs:ty),*) => {
        impl<T, U> $Trait<Delayed<U>> for Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;
            fn $method(self, rhs: Delayed<U>) -> Self::Output {
                binary($name, Arg::node(self), Arg::node(rhs), T::$method)
            }
        }
        impl<T, U> $Trait<&Delayed<U>> for Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;
            fn $method(self, rhs: &Delayed<U>) -> Self::Output {
                binary($name, Arg::node(self), Arg::node(rhs.clone()), T::$method)
            }
        }
        impl<T, U> $Trait<Delayed<U>> for &Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;
            fn $method(self, rhs: Delayed<U>) -> Self::Output {
                binary($name, Arg::node(self.clone()), Arg::node(rhs), T::$method)
            }
        }
        impl<T, U> $Trait<&Delayed<U>> for &Delayed<T>
        where
            T: $Trait<U> + Clone + Send + Sync + 'static,
            U: Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;
            fn $method(self, rhs: &Delayed<U>) -> Self::Output {
                binary($name, Arg::node(self.clone()), Arg::node(rhs.clone()), T::$method)
            }
        }
        $(
            impl<T> $Trait<$prim> for Delayed<T>
            where
                T: $Trait<$prim> + Clone + Send + Sync + 'static,
                T::Output: Send + Sync + 'static,
            {
                type Output = Delayed<T::Output>;
                fn $method(self, rhs: $prim) -> Self::Output {
                    binary($name, Arg::node(self), Arg::value(rhs), T::$method)
                }
            }
            impl<T> $Trait<$prim> for &Delayed<T>
            where
                T: $Trait<$prim> + Clone + Send + Sync + 'static,
                T::Output: Send + Sync + 'static,
            {
                type Output = Delayed<T::Output>;
                fn $method(self, rhs: $prim) -> Self::Output {
                    binary($name, Arg::node(self.clone()), Arg::value(rhs), T::$method)
                }
            }
        )*
        $(
            // Same type on both sides only: an impl for every `Delayed<U>` with
            // `$lhs: $Trait<U>` sent rustc's trait solver down `Delayed<Delayed<..>>`
            // when it met `n - 2` in a user's generic code, a compile error (E0275).
            impl $Trait<Delayed<$lhs>> for $lhs {
                type Output = Delayed<<$lhs as $Trait>::Output>;
                fn $method(self, rhs: Delayed<$lhs>) -> Self::Output {
                    binary($name, Arg::value(self), Arg::node(rhs), <$lhs as $Trait>::$method)
                }
            }
            impl $Trait<&Delayed<$lhs>> for $lhs {
                type Output = Delayed<<$lhs as $Trait>::Output>;
                fn $method(self, rhs: &Delayed<$lhs>) -> Self::Output {
                    binary($name, Arg::value(self), Arg::node(rhs.clone()), <$lhs as $Trait>::$method)
                }
            }
        )*
    };
}

macro_rules! all_binary_ops {
    ($($int:ty),*; $($float:ty),*) => {
        binary_op!(Add, add, "add"; $($int,)* $($float),*; $($int,)* $($float),*);
        binary_op!(Sub, sub, "sub"; $($int,)* $($float),*; $($int,)* $($float),*);
        binary_op!(Mul, mul, "mul"; $($int,)* $($float),*; $($int,)* $($float),*);
        binary_op!(Div, div, "div"; $($int,)* $($float),*; $($int,)* $($float),*);
        binary_op!(Rem, rem, "rem"; $($int,)* $($float),*; $($int,)* $($float),*);
        binary_op!(BitAnd, bitand, "and"; $($int,)* $($float),*; $($int),*);
        binary_op!(BitOr, bitor, "or"; $($int,)* $($float),*; $($int),*);
        binary_op!(BitXor, bitxor, "xor"; $($int,)* $($float),*; $($int),*);
        binary_op!(Shl, shl, "shl"; $($int,)* $($float),*; $($int),*);
        binary_op!(Shr, shr, "shr"; $($int,)* $($float),*; $($int),*);
    };
}

all_binary_ops!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize; f32, f64
);

macro_rules! unary_op {
    ($Trait:ident, $method:ident, $name:literal) => {
        impl<T> $Trait for Delayed<T>
        where
            T: $Trait + Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;
            fn $method(self) -> Self::Output {
                node($name, (Arg::node(self), ()), |(x, ()), inputs| {
                    Ok(T::$method(x.take(inputs)?))
                })
            }
        }
        impl<T> $Trait for &Delayed<T>
        where
            T: $Trait + Clone + Send + Sync + 'static,
            T::Output: Send + Sync + 'static,
        {
            type Output = Delayed<T::Output>;
            fn $method(self) -> Self::Output {
                $Trait::$method(self.clone())
            }
        }
    };
}

unary_op!(Neg, neg, "neg");
unary_op!(Not, not, "not");
