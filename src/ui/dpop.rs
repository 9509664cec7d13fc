//! The driver's DPoP part: this tab's key pair lives here, in memory only (a `CryptoKey`
//! cannot be serialised or put in the timeline), made on first use and gone on reload.

use super::driver::{dispatch, Lab};
use crate::browser::{clock, webcrypto};
use crate::flow::engine::random_32;
use crate::flow::session::{Event, RequestId};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    /// The tab's key pair, once made.
    static KEY: RefCell<Option<Rc<webcrypto::DpopKeyPair>>> = const { RefCell::new(None) };
}

/// The tab's key pair, if made (the attack lab's stolen-token experiment signs a real request
/// with it, to show a captured proof replayed).
pub fn tab_key() -> Option<Rc<webcrypto::DpopKeyPair>> {
    KEY.with(|k| k.borrow().clone())
}

/// `Command::MakeDpopKey`: makes the non-extractable ES256 pair (or reuses the tab's) and hands
/// the public half to the session.
pub fn make_key(lab: RwSignal<Lab>) {
    spawn_local(async move {
        let key = match KEY.with(|k| k.borrow().clone()) {
            Some(key) => Ok(key),
            None => webcrypto::generate_dpop_key().await.map(Rc::new),
        };
        let event = match (key, random_32()) {
            (Ok(key), Ok(seed)) => {
                let public_jwk_json = key.public_jwk_json().to_owned();
                KEY.with(|k| *k.borrow_mut() = Some(key));
                Event::DpopKeyReady {
                    public_jwk_json,
                    jti_seed: seed,
                    now: clock::now_ms(),
                }
            }
            (Err(message), _) => Event::DpopKeyFailed {
                message,
                now: clock::now_ms(),
            },
            (_, Err(problem)) => Event::DpopKeyFailed {
                message: problem.what_happened,
                now: clock::now_ms(),
            },
        };
        dispatch(lab, event);
    });
}

/// `Command::Sign`: signs a proof with the tab's key.
pub fn sign(lab: RwSignal<Lab>, id: RequestId, input: String) {
    spawn_local(async move {
        let key = KEY.with(|k| k.borrow().clone());
        let outcome = match key {
            Some(key) => webcrypto::sign_dpop(&key, &input).await,
            None => Err("no DPoP key in this tab".to_owned()),
        };
        let now = clock::now_ms();
        dispatch(
            lab,
            match outcome {
                Ok(signature) => Event::Signed { id, signature, now },
                Err(message) => Event::SignFailed { id, message, now },
            },
        );
    });
}
