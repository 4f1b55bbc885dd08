//! Duty shifts as an iCalendar feed (RFC 5545) that people subscribe to from their phone or desktop
//! calendar. Times are written in Beijing time with a `TZID` and an embedded `VTIMEZONE`, so a
//! client shows the roster's own wall-clock times and needs no time-zone database of its own.

use beacon_core::clock::china_offset;
use chrono::{DateTime, Utc};

/// The zone every shift is written in; China has kept UTC+8 all year since 1991.
const TZID: &str = "Asia/Shanghai";
/// RFC 5545 section 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break.
const MAX_LINE_OCTETS: usize = 75;

/// One event of the feed, typically a duty shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcalEvent {
    /// Stable across feeds, so a client updates the event instead of adding a copy.
    pub uid: String,
    pub start: DateTime<Utc>,
    /// After `start` (RFC 5545 section 3.8.2.2); the writer does not reorder them.
    pub end: DateTime<Utc>,
    pub summary: String,
    /// Left out of the feed when empty.
    pub description: String,
    /// Left out of the feed when empty.
    pub location: String,
    pub last_modified: DateTime<Utc>,
}

/// A `VCALENDAR` named `name` with one `VEVENT` per event. `stamp` is when the feed was produced
/// (each event's `DTSTAMP`, as RFC 5545 section 3.8.7.2 asks for a `METHOD`-bearing object). Lines
/// end with CRLF and are folded at 75 octets without splitting a character; instants are written
/// to the second.
pub fn calendar(name: &str, events: &[IcalEvent], stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut line = |content: &str| push_folded(&mut out, content);
    line("BEGIN:VCALENDAR");
    line("PRODID:-//Beacon//Duty roster//ZH");
    line("VERSION:2.0");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    line(&format!("X-WR-TIMEZONE:{TZID}"));
    line("BEGIN:VTIMEZONE");
    line(&format!("TZID:{TZID}"));
    line("BEGIN:STANDARD");
    line("DTSTART:19700101T000000");
    line("TZOFFSETFROM:+0800");
    line("TZOFFSETTO:+0800");
    line("TZNAME:CST");
    line("END:STANDARD");
    line("END:VTIMEZONE");
    for event in events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", escape_text(&event.uid)));
        line(&format!("DTSTAMP:{}", utc(stamp)));
        line(&format!("DTSTART;TZID={TZID}:{}", beijing(event.start)));
        line(&format!("DTEND;TZID={TZID}:{}", beijing(event.end)));
        line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if !event.description.is_empty() {
            line(&format!("DESCRIPTION:{}", escape_text(&event.description)));
        }
        if !event.location.is_empty() {
            line(&format!("LOCATION:{}", escape_text(&event.location)));
        }
        line(&format!("LAST-MODIFIED:{}", utc(event.last_modified)));
        line("TRANSP:OPAQUE");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// RFC 5545 section 3.3.5, form #2 (UTC).
fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 section 3.3.5, form #3 (local time with a time-zone reference).
fn beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_offset()).format("%Y%m%dT%H%M%S").to_string()
}

/// TEXT escaping (RFC 5545 section 3.3.11). Line breaks in any convention become `\n`; other
/// control characters are not allowed in TEXT and are dropped, except the tab, which is.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded (RFC 5545 section 3.1): a line longer than 75 octets is
/// broken before the character that would cross the limit, and each continuation starts with one
/// space, which counts towards that line's 75.
fn push_folded(out: &mut String, content: &str) {
    let mut used = 0;
    for c in content.chars() {
        if used + c.len_utf8() > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use icalendar::{CalendarDateTime, Component, DatePerhapsTime, EventLike};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn shift(uid: &str, start: &str, end: &str, summary: &str) -> IcalEvent {
        IcalEvent {
            uid: uid.to_owned(),
            start: at(start),
            end: at(end),
            summary: summary.to_owned(),
            description: String::new(),
            location: String::new(),
            last_modified: at("2026-01-20T02:00:00Z"),
        }
    }

    fn long_summary() -> String {
        "市应急管理局总值班室带班领导：张三，值班员：李四、王五；".repeat(6)
    }

    fn sample() -> String {
        let mut night = shift(
            "shift-1@beacon",
            "2026-02-16T12:00:00Z",
            "2026-02-17T00:30:00Z",
            &long_summary(),
        );
        night.description =
            "值班电话：12345, 备用; 路径 C:\\值班\r\n第二行\n第三行\u{7}".to_owned();
        night.location = "市政府大楼 3 楼, 应急指挥中心".to_owned();
        let day = shift("shift-2@beacon", "2026-02-16T00:30:00Z", "2026-02-16T12:00:00Z", "白班");
        calendar("春节值班表, 2026", &[night, day], at("2026-02-01T08:00:00Z"))
    }

    #[test]
    fn every_physical_line_ends_with_crlf_and_fits_75_octets() {
        let text = sample();
        assert!(text.ends_with("\r\n"));
        let body = text.strip_suffix("\r\n").unwrap();
        let mut folded = 0;
        for line in body.split("\r\n") {
            assert!(line.len() <= MAX_LINE_OCTETS, "{} octets: {line}", line.len());
            assert!(!line.contains('\n') && !line.contains('\r'), "bare line break in {line:?}");
            if line.starts_with(' ') {
                folded += 1;
            }
        }
        assert!(folded >= 5, "the long summary is folded several times");
        // No line break other than CRLF anywhere.
        assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
    }

    #[test]
    fn an_independent_parser_reads_events_times_and_text_back() {
        let text = sample();
        let parsed = icalendar::Calendar::from_str(&text).unwrap();
        let events: Vec<&icalendar::Event> =
            parsed.components.iter().filter_map(|c| c.as_event()).collect();
        assert_eq!(events.len(), 2);

        let night = events[0];
        assert_eq!(night.get_uid(), Some("shift-1@beacon"));
        // 12:00 UTC is 20:00 in Beijing; the night shift ends 08:30 the next morning.
        let tz = |h: &str| {
            Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
                date_time: h.parse().unwrap(),
                tzid: "Asia/Shanghai".to_owned(),
            }))
        };
        assert_eq!(night.get_start(), tz("2026-02-16T20:00:00"));
        assert_eq!(night.get_end(), tz("2026-02-17T08:30:00"));
        assert_eq!(night.get_timestamp(), Some(at("2026-02-01T08:00:00Z")));
        assert_eq!(night.get_last_modified(), Some(at("2026-01-20T02:00:00Z")));
        // Folded lines are joined back without losing or splitting a character.
        assert_eq!(night.get_summary(), Some(long_summary().as_str()));
        // Commas, semicolons, backslashes and line breaks come back; the BEL is gone.
        assert_eq!(
            night.get_description(),
            Some("值班电话：12345, 备用; 路径 C:\\值班\n第二行\n第三行")
        );
        assert_eq!(night.get_location(), Some("市政府大楼 3 楼, 应急指挥中心"));
        assert_eq!(night.property_value("TRANSP"), Some("OPAQUE"));

        let day = events[1];
        assert_eq!(day.get_summary(), Some("白班"));
        assert_eq!(day.get_start(), tz("2026-02-16T08:30:00"));
        assert_eq!(day.get_end(), tz("2026-02-16T20:00:00"));
        // Empty description and location are left out rather than written empty.
        assert_eq!(day.get_description(), None);
        assert_eq!(day.get_location(), None);
    }

    #[test]
    fn calendar_properties_and_time_zone_are_present() {
        let text = sample();
        let unfolded = icalendar::parser::unfold(&text);
        let parsed = icalendar::parser::read_calendar(&unfolded).unwrap();
        let prop = |name: &str| {
            parsed.properties.iter().find(|p| p.name == name).map(|p| p.val.as_str().to_owned())
        };
        assert_eq!(prop("PRODID").as_deref(), Some("-//Beacon//Duty roster//ZH"));
        assert_eq!(prop("VERSION").as_deref(), Some("2.0"));
        assert_eq!(prop("CALSCALE").as_deref(), Some("GREGORIAN"));
        assert_eq!(prop("METHOD").as_deref(), Some("PUBLISH"));
        // Escaped on the wire, plain once parsed.
        assert!(text.contains("\r\nX-WR-CALNAME:春节值班表\\, 2026\r\n"));
        assert_eq!(prop("X-WR-CALNAME").as_deref(), Some("春节值班表, 2026"));
        assert_eq!(prop("X-WR-TIMEZONE").as_deref(), Some("Asia/Shanghai"));

        let tz = parsed.components.iter().find(|c| c.name == "VTIMEZONE").unwrap();
        assert_eq!(tz.find_prop("TZID").map(|p| p.val.as_str()), Some("Asia/Shanghai"));
        let standard = tz.components.iter().find(|c| c.name == "STANDARD").unwrap();
        let value = |name: &str| standard.find_prop(name).map(|p| p.val.as_str());
        assert_eq!(value("TZOFFSETFROM"), Some("+0800"));
        assert_eq!(value("TZOFFSETTO"), Some("+0800"));
        assert_eq!(value("TZNAME"), Some("CST"));
        assert_eq!(value("DTSTART"), Some("19700101T000000"));

        // Every event's times refer to the zone defined above.
        let events: Vec<_> = parsed.components.iter().filter(|c| c.name == "VEVENT").collect();
        assert_eq!(events.len(), 2);
        for event in events {
            for name in ["DTSTART", "DTEND"] {
                let p = event.find_prop(name).unwrap();
                let tzid = p.params.iter().find(|x| x.key == "TZID").and_then(|x| x.val.as_ref());
                assert_eq!(tzid.map(|v| v.as_str()), Some("Asia/Shanghai"));
            }
        }
    }

    #[test]
    fn escapes_text_as_rfc_5545_says() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(escape_text("1\n2\r\n3\r4"), r"1\n2\n3\n4");
        assert_eq!(escape_text("a\u{0}b\u{1b}c\u{7f}d\u{85}e\tf"), "abcde\tf");
        assert_eq!(escape_text("汉字：冒号不转义"), "汉字：冒号不转义");
        assert_eq!(escape_text(":"), ":");
    }

    #[test]
    fn folding_never_splits_a_character() {
        // 3-octet characters after a 2-octet prefix: 73 + 3 would cross 75.
        let mut out = String::new();
        let content = format!("ab{}", "值".repeat(60));
        push_folded(&mut out, &content);
        let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(lines[0].len(), 74, "2 + 24 × 3 octets, the 25th character would make 77");
        for line in &lines[1..] {
            assert!(line.starts_with(' ') && line.len() <= 75, "{line:?}");
        }
        let joined: String =
            lines.iter().enumerate().map(|(i, l)| if i == 0 { *l } else { &l[1..] }).collect();
        assert_eq!(joined, content);

        // A line of exactly 75 octets stays whole; 76 folds.
        let mut out = String::new();
        push_folded(&mut out, &"x".repeat(75));
        assert_eq!(out, format!("{}\r\n", "x".repeat(75)));
        let mut out = String::new();
        push_folded(&mut out, &"x".repeat(76));
        assert_eq!(out, format!("{}\r\n x\r\n", "x".repeat(75)));

        // Four-octet characters (emoji, rare CJK extension characters) too.
        let mut out = String::new();
        push_folded(&mut out, &"𠀀".repeat(40));
        assert!(out.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(icalendar::parser::unfold(&out).trim_end(), "𠀀".repeat(40));
    }

    #[test]
    fn an_empty_roster_is_still_a_valid_calendar() {
        let text = calendar("", &[], at("2026-02-01T08:00:00Z"));
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.contains("BEGIN:VEVENT"));
        let parsed = icalendar::Calendar::from_str(&text).unwrap();
        assert!(parsed.components.iter().all(|c| c.as_event().is_none()));
    }

    #[test]
    fn instants_are_written_to_the_second_in_their_forms() {
        let mut event = shift("u", "2026-03-01T15:59:59.999Z", "2026-03-01T16:00:00Z", "s");
        event.last_modified = at("2026-03-01T01:02:03.456Z");
        let text = calendar("n", &[event], at("2026-03-01T00:00:00Z"));
        assert!(text.contains("\r\nDTSTAMP:20260301T000000Z\r\n"), "{text}");
        // 15:59:59 UTC is 23:59:59 Beijing; 16:00 UTC is midnight of the next Beijing day.
        assert!(text.contains("\r\nDTSTART;TZID=Asia/Shanghai:20260301T235959\r\n"), "{text}");
        assert!(text.contains("\r\nDTEND;TZID=Asia/Shanghai:20260302T000000\r\n"), "{text}");
        assert!(text.contains("\r\nLAST-MODIFIED:20260301T010203Z\r\n"), "{text}");
    }
}
