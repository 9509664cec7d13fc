//! The sequence diagram: pure geometry in `layout`, replay state in `replay`, drawn by `view`.

#[cfg(test)]
pub(crate) mod corpus;
pub mod export;
pub mod layout;
pub mod num;
pub mod replay;
pub mod svg;
pub mod view;
