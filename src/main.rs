//! Entry point: mount the app to the page body.

fn main() {
    // scripts/bench: the wasm is downloaded, compiled and running from here on.
    oauth_flow_lab::browser::clock::mark("oauth-flow-lab:start");
    console_error_panic_hook::set_once();
    // A probe window back from the provider hands its URL to the lab and never runs the app.
    if oauth_flow_lab::browser::popup::hand_back_if_probe_window() {
        return;
    }
    leptos::mount::mount_to_body(oauth_flow_lab::App);
    // Mounted and drawn (as the baseline marks it): load → ready ends here, unless the page
    // draws once its DPoP token request has left (it marks itself then).
    if !oauth_flow_lab::ui::driver::drawing_deferred() {
        oauth_flow_lab::browser::clock::mark(oauth_flow_lab::browser::clock::READY_MARK);
    }
}
