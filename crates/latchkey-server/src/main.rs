//! The `latchkey` binary: see `latchkey --help`.

fn main() -> std::process::ExitCode {
    latchkey_server::cli::main()
}
