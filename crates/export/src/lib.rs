//! Exports in the formats offices use. Offices live in spreadsheets: every ledger in Beacon can
//! be taken out as an Excel workbook laid out the way they are printed and filed.

pub mod ical;
pub mod sheet;

use beacon_core::clock::china_offset;
use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

#[derive(Debug, thiserror::Error)]
#[error("cannot build the workbook: {0}")]
pub struct ExportError(#[from] pub(crate) XlsxError);

/// One cell of a ledger row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// Written as Beijing time (UTC+8), the time offices read.
    Time(DateTime<Utc>),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Self {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

/// A one-sheet ledger: a title row, a header row, then the rows; columns sized to their content,
/// the header frozen, printable on landscape A4 with the header repeated on every page.
pub struct Ledger<'a> {
    pub sheet: &'a str,
    pub title: &'a str,
    pub headers: &'a [&'a str],
    pub rows: Vec<Vec<Cell>>,
}

pub fn ledger_xlsx(ledger: &Ledger<'_>) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sanitize_sheet_name(ledger.sheet))?;
    let title = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color("D9E1F2")
        .set_align(FormatAlign::Center);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let columns = u16::try_from(ledger.headers.len()).unwrap_or(u16::MAX).max(1);
    if columns > 1 {
        sheet.merge_range(0, 0, 0, columns - 1, ledger.title, &title)?;
    } else {
        sheet.write_string_with_format(0, 0, ledger.title, &title)?;
    }
    let mut widths: Vec<usize> = ledger.headers.iter().map(|h| display_width(h)).collect();
    for (col, text) in ledger.headers.iter().enumerate() {
        sheet.write_string_with_format(1, col_index(col), *text, &header)?;
    }
    let beijing = china_offset();
    for (r, row) in ledger.rows.iter().enumerate() {
        let row_index = u32::try_from(r + 2).unwrap_or(u32::MAX);
        for (c, value) in row.iter().enumerate() {
            let col = col_index(c);
            let text = match value {
                Cell::Text(s) => excel_text(s),
                Cell::Number(n) => {
                    sheet.write_number_with_format(row_index, col, *n, &cell)?;
                    n.to_string()
                }
                Cell::Time(t) => t.with_timezone(&beijing).format("%Y-%m-%d %H:%M:%S").to_string(),
                Cell::Empty => String::new(),
            };
            if !matches!(value, Cell::Number(_)) {
                sheet.write_string_with_format(row_index, col, &text, &cell)?;
            }
            if let Some(width) = widths.get_mut(c) {
                *width = (*width).max(display_width(&text).min(60));
            }
        }
    }
    for (c, width) in widths.iter().enumerate() {
        sheet.set_column_width(col_index(c), (*width as f64) + 2.0)?;
    }
    sheet.set_freeze_panes(2, 0)?;
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_repeat_rows(1, 1)?;
    sheet.set_print_fit_to_pages(1, 0);
    Ok(workbook.save_to_buffer()?)
}

/// Excel holds at most 32,767 characters in a cell; longer text is cut with an ellipsis.
pub(crate) fn excel_text(s: &str) -> String {
    const MAX: usize = 32_767;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(MAX - 1).collect();
        cut.push('…');
        cut
    }
}

pub(crate) fn col_index(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// Width in "characters" as Excel counts them: CJK characters take two.
pub(crate) fn display_width(text: &str) -> usize {
    text.chars().map(|c| if (c as u32) > 0x2E80 { 2 } else { 1 }).sum()
}

/// Excel sheet names: at most 31 characters, none of `[]:*?/\`.
pub(crate) fn sanitize_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    if cleaned.is_empty() { "Sheet1".to_owned() } else { cleaned }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn writes_a_readable_workbook() {
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:30:00Z").unwrap().with_timezone(&Utc);
        let bytes = ledger_xlsx(&Ledger {
            sheet: "审计记录",
            title: "审计记录导出",
            headers: &["序号", "时间", "操作"],
            rows: vec![vec![Cell::Number(1.0), Cell::Time(at), "unit.create".into()]],
        })
        .unwrap();
        assert_eq!(&bytes[..2], b"PK", "xlsx is a zip archive");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut shared = String::new();
        archive.by_name("xl/sharedStrings.xml").unwrap().read_to_string(&mut shared).unwrap();
        assert!(shared.contains("审计记录导出"));
        // 00:30 UTC is 08:30 in Beijing.
        assert!(shared.contains("2026-01-01 08:30:00"), "{shared}");
        assert!(shared.contains("unit.create"));
    }

    #[test]
    fn long_text_is_cut_to_what_excel_holds() {
        let long = "x".repeat(40_000);
        let bytes = ledger_xlsx(&Ledger {
            sheet: "s",
            title: "t",
            headers: &["a"],
            rows: vec![vec![Cell::Text(long)]],
        });
        assert!(bytes.is_ok(), "{:?}", bytes.err());
        assert_eq!(excel_text(&"y".repeat(40_000)).chars().count(), 32_767);
    }

    #[test]
    fn sheet_names_are_made_legal() {
        assert_eq!(sanitize_sheet_name("a/b:c"), "abc");
        assert_eq!(sanitize_sheet_name("[]"), "Sheet1");
        assert_eq!(sanitize_sheet_name(&"x".repeat(40)).len(), 31);
    }
}
