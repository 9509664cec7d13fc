//! Fetches the teaching text (`teaching.txt`, `crate::text`) from the page's own origin, once the
//! page has settled (after the first paint; on a callback page, after the tokens): nothing on the
//! callback's path waits for it.

use crate::browser::http::{fetch, FetchRequest};
use crate::text::{Catalog, FILE, VERSION};

/// The catalog's address: same origin, with the file's hash as a query so a changed file is
/// never served from an old cache entry.
pub fn url() -> String {
    format!("{FILE}?v={VERSION:08x}")
}

/// Loads and parses the catalog; a one-line message saying what failed otherwise.
pub async fn load() -> Result<Catalog, String> {
    let url = url();
    let answer = fetch(FetchRequest {
        method: "GET",
        url: &url,
        headers: &[],
        body: None,
    })
    .await
    .map_err(|e| format!("{FILE} could not be fetched: {e}"))?;
    if answer.status != 200 {
        return Err(format!("{FILE} answered HTTP {}", answer.status));
    }
    Catalog::parse(&answer.body)
}
