//! Finding communes in the real referentials that `make setup` installs.

#[test]
fn a_name_or_a_postal_code_finds_the_commune() {
    let dir = std::env::var("REFERENTIALS_DIR").expect("`make test` sources the setup env file");
    let communes = places::load(std::path::Path::new(&dir)).unwrap();
    assert!(communes.len() > 5000, "{} communes", communes.len());
    let lyon = places::find(&communes, "Lyon").unwrap();
    assert_eq!(
        (lyon.name.as_str(), lyon.departement.as_str()),
        ("Lyon", "69")
    );
    assert!((lyon.latitude - 45.76).abs() < 0.1 && (lyon.longitude - 4.83).abs() < 0.1);
    assert_eq!(places::find(&communes, "69007").unwrap().code, lyon.code);
    let etienne = places::find(&communes, "saint etienne").unwrap();
    assert_eq!(
        (etienne.name.as_str(), etienne.departement.as_str()),
        ("Saint-Étienne", "42")
    );
    assert!(places::find(&communes, "Atlantis").is_none());
    assert!(places::find(&communes, "00000").is_none());
}
