//! `Leadership`: leadership of one election (`fencelock::Leadership`) as a JS class.

use crate::error::to_js;
use crate::guard::{notify_lost, LostCallback};
use crate::promise;
use fencelock::Leadership as CoreLeadership;
use napi::bindgen_prelude::{BigInt, Object};
use napi::Env;
use napi_derive::napi;
use std::sync::{Arc, Mutex};

/// Leadership of one election, held (and renewed) until `resign()` or loss.
#[napi]
pub struct Leadership {
    // `resign` consumes the core value; later calls find `None` and report not leading.
    inner: Arc<Mutex<Option<CoreLeadership>>>,
    key: String,
    term: u64,
}

impl Leadership {
    pub(crate) fn wrap(l: CoreLeadership) -> Leadership {
        Leadership {
            key: l.key().to_owned(),
            term: l.term(),
            inner: Arc::new(Mutex::new(Some(l))),
        }
    }

    fn with<T>(&self, f: impl FnOnce(Option<&CoreLeadership>) -> T) -> T {
        f(self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref())
    }
}

#[napi]
impl Leadership {
    /// The election key.
    #[napi(getter)]
    pub fn key(&self) -> String {
        self.key.clone()
    }

    /// The fencing token of this term: greater than every earlier term's.
    #[napi(getter)]
    pub fn term(&self) -> BigInt {
        BigInt::from(self.term)
    }

    /// True while this process still leads.
    #[napi(getter)]
    pub fn is_leader(&self) -> bool {
        self.with(|l| l.is_some_and(|l| l.is_leader()))
    }

    /// Calls `callback` once when leadership is lost (not after `resign`). Does not keep the
    /// process alive.
    #[napi(ts_args_type = "callback: () => void")]
    pub fn on_lost(&self, callback: LostCallback) {
        if let Some(rx) = self.with(|l| l.map(|l| l.guard().status_receiver())) {
            notify_lost(rx, callback);
        }
    }

    /// Steps down so another candidate can lead; `false` if leadership was already lost.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn resign<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        promise::spawn(env, async move {
            match taken {
                Some(l) => l.resign().await.map_err(to_js),
                None => Ok(false),
            }
        })
    }
}
