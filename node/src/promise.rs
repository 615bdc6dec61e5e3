//! Promises settled from the core's runtime. napi-rs async functions run on napi's own tokio
//! runtime, so every call would hop napi runtime -> core runtime (where the connection lives)
//! -> napi runtime -> JS thread. Spawning the operation straight onto the core runtime and
//! settling a deferred promise from there saves two cross-thread wake-ups per call, which is
//! most of the binding's overhead on a lock cycle (DESIGN.md §6: Node W1 <= 1.3x the core's).

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::Env;
use std::future::Future;

type Resolver<T> = Box<dyn FnOnce(Env) -> napi::Result<T> + Send>;

/// Runs `op` on the core runtime and returns a promise of its outcome.
pub fn spawn<'env, T, F>(env: &'env Env, op: F) -> napi::Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = napi::Result<T>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<T, Resolver<T>>()?;
    fencelock::runtime::handle().spawn(async move {
        match op.await {
            Ok(value) => deferred.resolve(Box::new(move |_| Ok(value))),
            Err(e) => deferred.reject(e),
        }
    });
    Ok(promise)
}
