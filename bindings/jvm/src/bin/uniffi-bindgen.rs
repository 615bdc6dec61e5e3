//! uniffi-bindgen of the pinned uniffi version, so generated Kotlin always matches the library.
fn main() {
    uniffi::uniffi_bindgen_main()
}
