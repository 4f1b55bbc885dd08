//! Text typed by people: names on one line, and longer free text that may span lines.

/// A name typed by a person (a unit's, a user's): trimmed, 1 to `max` characters, no control
/// characters.
pub fn plain_text(s: &str, max: usize) -> Result<String, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Err("required");
    }
    if s.chars().count() > max {
        return Err("too_long");
    }
    if s.chars().any(char::is_control) {
        return Err("invalid_characters");
    }
    Ok(s.to_owned())
}

/// Free text (a summary, notes): trimmed, at most `max` characters, line breaks and tabs
/// allowed but no other control characters. May be empty; callers that need text check that.
pub fn free_text(s: &str, max: usize) -> Result<String, &'static str> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err("too_long");
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err("invalid_characters");
    }
    Ok(s.replace("\r\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_keeps_lines_and_refuses_other_controls() {
        assert_eq!(free_text("  a\r\nb\tc ", 10), Ok("a\nb\tc".to_owned()));
        assert_eq!(free_text("a\u{0}b", 10), Err("invalid_characters"));
        assert_eq!(free_text("abc", 2), Err("too_long"));
        assert_eq!(free_text("", 2), Ok(String::new()));
        assert_eq!(plain_text(" ", 2), Err("required"));
    }
}
