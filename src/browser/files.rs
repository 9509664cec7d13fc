//! Getting things out of the page: the clipboard, a download.

use wasm_bindgen::JsCast;

/// Copies text to the clipboard; the browser may refuse without a user gesture.
pub async fn copy(text: &str) -> Result<(), String> {
    let clipboard = web_sys::window()
        .ok_or("no window")?
        .navigator()
        .clipboard();
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .map(|_| ())
        .map_err(|_| "The browser refused clipboard access; select the text and copy it.".into())
}

/// Offers `text` as a file download named `filename`.
pub fn download(filename: &str, mime: &str, text: &str) -> Result<(), String> {
    let fail = |_| "The browser refused the download.".to_owned();
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "no anchor".to_owned())?;
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// A file the user picked or dropped; read in this tab's memory only.
pub type PickedFile = web_sys::File;

/// The file the person picked in an `<input type=file>` (the change event's target).
pub fn picked_file(event: &web_sys::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = event.target()?.dyn_into().ok()?;
    input.files()?.get(0)
}

/// The first file dropped on an element (drag-and-drop).
pub fn dropped_file(event: &web_sys::DragEvent) -> Option<web_sys::File> {
    event.data_transfer()?.files()?.get(0)
}

/// A local file's name and size in bytes.
pub fn file_info(file: &web_sys::File) -> (String, f64) {
    (file.name(), file.size())
}

/// Reads a local file as text, in this tab's memory only (`Blob.text()`): nothing is uploaded
/// or stored.
pub async fn read_text(file: &web_sys::File) -> Result<String, String> {
    wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|value| value.as_string())
        .ok_or_else(|| "The browser could not read the file as text.".to_owned())
}
