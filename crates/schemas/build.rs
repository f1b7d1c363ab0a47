// `sqlx::migrate!` embeds the migrations when this crate compiles: a new or changed
// migration file must rebuild it.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
