//! The driver's DPoP part: this tab's key pair lives here, in memory only (a `CryptoKey`
//! cannot be serialised or put in the timeline), made on first use and gone on reload.

use super::driver::{dispatch, Lab};
use crate::browser::{clock, webcrypto};
use crate::flow::engine::random_32;
use crate::flow::session::{DpopKeyRole, Event, RequestId};
use crate::protocol::dpop::DpopAlg;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::rc::Rc;

thread_local! {
    /// The tab's key pair, once made.
    static KEY: RefCell<Option<Rc<webcrypto::DpopKeyPair>>> = const { RefCell::new(None) };
    /// The stolen-token experiment's attacker key pair (a fresh one each run).
    static ATTACKER: RefCell<Option<Rc<webcrypto::DpopKeyPair>>> = const { RefCell::new(None) };
    /// Whether the browser's algorithms were probed (or are being probed).
    static PROBED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Probes once per tab which DPoP key algorithms this browser's WebCrypto makes, and tells the
/// session (`Event::DpopAlgsProbed`). Started by the Provider panel, not on the callback's path.
pub fn probe(lab: RwSignal<Lab>) {
    if PROBED.with(|p| p.replace(true)) {
        return;
    }
    spawn_local(async move {
        let algs = webcrypto::probe_dpop_algs().await;
        dispatch(lab, Event::DpopAlgsProbed { algs });
    });
}

/// The slot of `role`'s key pair.
fn slot(
    role: DpopKeyRole,
) -> &'static std::thread::LocalKey<RefCell<Option<Rc<webcrypto::DpopKeyPair>>>> {
    match role {
        DpopKeyRole::Tab => &KEY,
        DpopKeyRole::Attacker => &ATTACKER,
    }
}

/// `Command::MakeDpopKey`: makes a non-extractable pair for `alg` (the tab's is made once per
/// kind of key and reused; the attacker's is new each time) and hands the public half to the
/// session.
pub fn make_key(lab: RwSignal<Lab>, role: DpopKeyRole, alg: DpopAlg) {
    let kept = match role {
        DpopKeyRole::Tab => KEY.with(|k| k.borrow().clone()).filter(|k| k.alg() == alg),
        DpopKeyRole::Attacker => None,
    };
    // Started here, not in the task: the key is made while the rest of the page runs (on the
    // callback page, while it is mounted).
    let kept_or_making = kept.ok_or_else(|| webcrypto::generate_dpop_key(alg));
    spawn_local(async move {
        let key = match kept_or_making {
            Ok(key) => Ok(key),
            Err(making) => making.await.map(Rc::new),
        };
        let event = match (key, random_32()) {
            (Ok(key), Ok(seed)) => {
                let public_jwk_json = key.public_jwk_json().to_owned();
                slot(role).with(|k| *k.borrow_mut() = Some(key));
                Event::DpopKeyReady {
                    key: role,
                    public_jwk_json,
                    jti_seed: seed,
                    now: clock::now_ms(),
                }
            }
            (Err(message), _) => Event::DpopKeyFailed {
                key: role,
                message,
                now: clock::now_ms(),
            },
            (_, Err(problem)) => Event::DpopKeyFailed {
                key: role,
                message: problem.what_happened,
                now: clock::now_ms(),
            },
        };
        dispatch(lab, event);
    });
}

/// `Command::Sign`: signs a proof with `role`'s key.
pub fn sign(lab: RwSignal<Lab>, id: RequestId, role: DpopKeyRole, input: String) {
    spawn_local(async move {
        let key = slot(role).with(|k| k.borrow().clone());
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
