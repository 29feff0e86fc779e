//! What an attacker's pull request may carry, for the tests of the limits on untrusted
//! input: a YAML alias bomb and a template whose loops would not end.

/// Nine anchors of nine aliases each: 9^9 strings once expanded (a "billion laughs").
pub fn alias_bomb() -> String {
    let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (previous, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let aliases = vec![format!("*{previous}"); 9].join(", ");
        text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    text
}

/// Three nested loops of 10,000 on one line: a render that would not end.
pub const RUNAWAY_LOOPS: &str = "{% for i in range(10000) %}{% for j in range(10000) %}{% for k in range(10000) %}\n{% endfor %}{% endfor %}{% endfor %}";
