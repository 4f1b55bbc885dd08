// `sqlx::migrate!` embeds the migrations at compile time; Cargo does not know to rebuild when
// one is added, unless told (as sqlx's documentation asks).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
