//! Golden fixtures: placeholder until the fixture runner lands.
#[test]
fn placeholder() {}
