//! `fetch` for the back channel: no redirects followed, no cookies, a timeout, and only
//! CORS-safelisted headers plus `Authorization` where a bearer token is needed.

use crate::flow::engine::TransportError;
use crate::protocol::token::HttpResponse;
use crate::protocol::uri::HttpUrl;
use std::future::Future;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, RequestCredentials, RequestInit, RequestMode, RequestRedirect,
    Response, ResponseType,
};

/// How long any back-channel request may take before it is abandoned (T-27).
pub const TIMEOUT_MS: u32 = 15_000;

/// One back-channel request.
pub struct FetchRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// Absolute URL.
    pub url: &'a str,
    /// Headers to send.
    pub headers: &'a [(&'a str, &'a str)],
    /// Form or JSON body.
    pub body: Option<&'a str>,
}

/// Sends the request at once, before the returned future is first polled (so a request made
/// while the page is still being built leaves without waiting for it), and reads the whole
/// answer as text. A redirect is never followed (status 0, RFC 9700 §4.12); cookies are never
/// sent (`credentials: omit`).
pub fn fetch(
    request: FetchRequest<'_>,
) -> impl Future<Output = Result<HttpResponse, TransportError>> + 'static {
    let origin = origin_of(request.url);
    let sent = start(&request);
    async move {
        let network_error = || TransportError::Network {
            origin: origin.clone(),
        };
        let Some(sent) = sent else {
            return Err(network_error());
        };
        let outcome = read_response(sent.answer).await;
        if let Some(timer) = sent.timer {
            sent.window.clear_timeout_with_handle(timer);
        }
        drop(sent.abort);
        outcome.map_err(|_| {
            if sent.controller.signal().aborted() {
                TransportError::Timeout {
                    after_ms: TIMEOUT_MS,
                }
            } else {
                network_error()
            }
        })
    }
}

/// A request on its way: the browser's promise of the answer and the timeout that aborts it.
struct Sent {
    window: web_sys::Window,
    answer: js_sys::Promise,
    controller: AbortController,
    abort: Closure<dyn FnMut()>,
    timer: Option<i32>,
}

fn start(request: &FetchRequest<'_>) -> Option<Sent> {
    let window = web_sys::window()?;
    let init = RequestInit::new();
    init.set_method(request.method);
    init.set_redirect(RequestRedirect::Manual);
    init.set_credentials(RequestCredentials::Omit);
    init.set_mode(RequestMode::Cors);
    let headers = Headers::new().ok()?;
    for (name, value) in request.headers {
        headers.set(name, value).ok()?;
    }
    init.set_headers(&headers);
    if let Some(body) = request.body {
        init.set_body(&JsValue::from_str(body));
    }
    let controller = AbortController::new().ok()?;
    init.set_signal(Some(&controller.signal()));
    let abort = {
        let controller = controller.clone();
        Closure::once(move || controller.abort())
    };
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            abort.as_ref().unchecked_ref(),
            TIMEOUT_MS as i32,
        )
        .ok();
    let answer = window.fetch_with_str_and_init(request.url, &init);
    Some(Sent {
        window,
        answer,
        controller,
        abort,
        timer,
    })
}

async fn read_response(answer: js_sys::Promise) -> Result<HttpResponse, JsValue> {
    let response: Response = JsFuture::from(answer).await?.dyn_into()?;
    if response.type_() == ResponseType::Opaqueredirect {
        return Ok(HttpResponse {
            status: 0,
            content_type: None,
            body: String::new(),
            www_authenticate: None,
            cache_control: None,
        });
    }
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let content_type = header("content-type");
    let www_authenticate = header("www-authenticate");
    let cache_control = header("cache-control");
    let body = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(HttpResponse {
        status: response.status(),
        content_type,
        body,
        www_authenticate,
        cache_control,
    })
}

fn origin_of(url: &str) -> String {
    HttpUrl::parse(url)
        .map(|u| u.origin())
        .unwrap_or_else(|_| url.to_owned())
}
