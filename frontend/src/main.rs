//! Entry point of the console's wasm: mounts the app on `<body>`.

fn main() {
    leptos::mount::mount_to_body(frontend::App);
}
