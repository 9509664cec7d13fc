//! Entry point: mount the app to the page body.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(oauth_flow_lab::App);
}
