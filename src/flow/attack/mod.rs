//! PURE attack lab: the steps an attacker takes against the configured provider, the
//! provider's real answers, the defence that acted, and the ghost path of what would have
//! happened without it. The glue sends the requests and hands the answers in.
//!
//! [`experiment`] defines the experiments and what the lab keeps between trips; the steps they
//! draw are in [`back_channel`] (token endpoint) and [`front_channel`] (the address bar: forged
//! link, probes); [`report`] turns the provider's answers into a verdict.

mod back_channel;
mod experiment;
mod front_channel;
mod report;

pub use back_channel::*;
pub use experiment::*;
pub use front_channel::*;
pub use report::*;

#[cfg(test)]
mod tests;
