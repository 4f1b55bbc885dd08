//! Reading the workbooks offices send: the first sheet of an `.xlsx`, cell by cell (never the
//! whole sheet in memory), its header row matched against the columns an import expects whatever
//! their order, spacing or `*` marks, and cells read the way a clerk types dates, numbers and
//! yes/no. Also the two workbooks an import hands back: the blank template and the original file
//! annotated with what became of each row.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook};

use crate::{ExportError, col_index, display_width, excel_text, sanitize_sheet_name};

/// A column an import reads.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The field the column fills (`uscc`), also accepted as a header.
    pub key: &'static str,
    /// The header in the template (Chinese).
    pub zh: &'static str,
    /// The header in the English template.
    pub en: &'static str,
    /// Other headers offices use for it (`信用代码`, `社会信用代码`).
    pub aliases: &'static [&'static str],
    pub required: bool,
    /// How to fill it, for the template's notes sheet (Chinese, English).
    pub hint: (&'static str, &'static str),
}

impl Column {
    pub fn header(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// A cell's value; empty cells are `None` in a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

/// Why a workbook cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct SheetError {
    /// `not_a_workbook`, `empty_sheet`, `too_many_rows`, `no_header`.
    pub code: &'static str,
}

const fn sheet_error(code: &'static str) -> SheetError {
    SheetError { code }
}

/// Calls `each` with every non-blank row of the first sheet: its number as Excel shows it
/// (1-based) and its cells from column A. At most `max_rows` rows.
pub fn rows(
    bytes: &[u8],
    max_rows: usize,
    mut each: impl FnMut(u32, Vec<Option<Value>>) -> Result<(), SheetError>,
) -> Result<(), SheetError> {
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|_| sheet_error("not_a_workbook"))?;
    let name = book.sheet_names().first().cloned().ok_or(sheet_error("empty_sheet"))?;
    let mut reader =
        book.worksheet_cells_reader(&name).map_err(|_| sheet_error("not_a_workbook"))?;
    let mut current: Option<(u32, Vec<Option<Value>>)> = None;
    let mut count = 0usize;
    let mut flush = |row: Option<(u32, Vec<Option<Value>>)>,
                     each: &mut dyn FnMut(u32, Vec<Option<Value>>) -> Result<(), SheetError>|
     -> Result<(), SheetError> {
        if let Some((number, cells)) = row
            && cells.iter().any(Option::is_some)
        {
            count += 1;
            if count > max_rows {
                return Err(sheet_error("too_many_rows"));
            }
            each(number + 1, cells)?;
        }
        Ok(())
    };
    loop {
        let cell = reader.next_cell().map_err(|_| sheet_error("not_a_workbook"))?;
        let Some(cell) = cell else { break };
        let (r, c) = cell.get_position();
        let value = value_of(cell.get_value());
        if current.as_ref().is_none_or(|(n, _)| *n != r) {
            flush(current.take(), &mut each)?;
            current = Some((r, Vec::new()));
        }
        if let Some((_, cells)) = current.as_mut() {
            let c = usize::try_from(c).unwrap_or(usize::MAX);
            if c < 1024 {
                if cells.len() <= c {
                    cells.resize(c + 1, None);
                }
                cells[c] = value;
            }
        }
    }
    flush(current.take(), &mut each)?;
    if count == 0 {
        return Err(sheet_error("empty_sheet"));
    }
    Ok(())
}

fn value_of(data: &DataRef<'_>) -> Option<Value> {
    match data {
        DataRef::Int(i) => Some(Value::Number(*i as f64)),
        DataRef::Float(f) => Some(Value::Number(*f)),
        DataRef::String(s) => text_value(s),
        DataRef::SharedString(s) => text_value(s),
        DataRef::Bool(b) => Some(Value::Bool(*b)),
        DataRef::DateTime(d) if d.is_datetime() => {
            d.as_datetime().map(|t| Value::Date(t.date())).or(Some(Value::Number(d.as_f64())))
        }
        DataRef::DateTime(d) => Some(Value::Number(d.as_f64())),
        DataRef::DateTimeIso(s) => text_value(s),
        DataRef::DurationIso(s) => text_value(s),
        DataRef::Error(_) | DataRef::Empty => None,
    }
}

fn text_value(s: &str) -> Option<Value> {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    (!t.is_empty()).then(|| Value::Text(t.to_owned()))
}

/// A header as compared: no spaces of any width, no `*` marks, no bracketed remark, lower case.
pub fn normalise_header(header: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in header.chars() {
        match c {
            '(' | '（' | '【' | '[' => depth += 1,
            ')' | '）' | '】' | ']' => depth = (depth - 1).max(0),
            _ if depth > 0 => {}
            '*' | '＊' => {}
            c if c.is_whitespace() || c == '\u{3000}' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Where each expected column sits in the sheet.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The row of the headers (1-based).
    pub header_row: u32,
    /// The expected columns, in the order of `positions`.
    pub columns: &'static [Column],
    /// Per expected column (in the order given), its index in the sheet.
    pub positions: Vec<Option<usize>>,
    /// Required columns the header row lacks, by their template header.
    pub missing: Vec<&'static Column>,
    /// Headers that name the same column twice (their sheet index), which is refused.
    pub duplicated: Vec<(usize, &'static Column)>,
}

/// Finds the header row among the first ten (a title row above it is common) and maps the
/// columns. The header row is the first with at least one known header.
pub fn layout(columns: &'static [Column], row: u32, cells: &[Option<Value>]) -> Option<Layout> {
    let names: HashMap<String, usize> = columns
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            [c.key, c.zh, c.en].into_iter().chain(c.aliases.iter().copied()).map(move |h| (h, i))
        })
        .map(|(h, i)| (normalise_header(h), i))
        .collect();
    let mut positions = vec![None; columns.len()];
    let mut duplicated = Vec::new();
    let mut found = false;
    for (index, cell) in cells.iter().enumerate() {
        let Some(value) = cell else { continue };
        let header = normalise_header(&render(value));
        if let Some(&i) = names.get(&header) {
            found = true;
            if positions[i].is_some() {
                duplicated.push((index, &columns[i]));
            } else {
                positions[i] = Some(index);
            }
        }
    }
    if !found {
        return None;
    }
    let missing = columns
        .iter()
        .zip(&positions)
        .filter(|(c, p)| c.required && p.is_none())
        .map(|(c, _)| c)
        .collect();
    Some(Layout { header_row: row, columns, positions, missing, duplicated })
}

/// A cell as text, the way Excel shows it: whole numbers without `.0`, dates as `2026-05-01`.
pub fn render(value: &Value) -> String {
    match value {
        Value::Text(s) => s.clone(),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        Value::Number(n) => n.to_string(),
        Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        Value::Bool(true) => "是".to_owned(),
        Value::Bool(false) => "否".to_owned(),
    }
}

/// One data row seen through a layout.
pub struct Row<'a> {
    pub number: u32,
    pub cells: &'a [Option<Value>],
    pub layout: &'a Layout,
}

impl Row<'_> {
    /// The cell of the column whose key is `key`; none when blank or the sheet lacks the column.
    fn cell(&self, key: &str) -> Option<&Value> {
        let column = self.layout.columns.iter().position(|c| c.key == key)?;
        let index = self.layout.positions.get(column).copied().flatten()?;
        self.cells.get(index).and_then(Option::as_ref)
    }

    /// The cell's text, trimmed; empty when blank or absent.
    pub fn text(&self, key: &str) -> String {
        self.cell(key).map(render).unwrap_or_default()
    }

    /// Items separated by `;`, `；`, `、`, `,`, `，` or line breaks.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.text(key)
            .split([';', '；', '、', ',', '，', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// A date typed as an Excel date, `2026-05-01`, `2026/5/1`, `2026.5.1`, `2026年5月1日` or
    /// `20260501`. Error `date_unreadable`.
    pub fn date(&self, key: &str) -> Result<Option<NaiveDate>, &'static str> {
        match self.cell(key) {
            None => Ok(None),
            Some(Value::Date(d)) => Ok(Some(*d)),
            Some(Value::Number(n))
                if n.fract() == 0.0 && (19_000_101.0..=29_991_231.0).contains(n) =>
            {
                parse_date(&format!("{}", *n as i64)).map(Some)
            }
            Some(Value::Number(n)) if (1.0..=2_958_465.0).contains(n) => {
                // An Excel serial day without a date format (1900 system).
                let base = NaiveDate::from_ymd_opt(1899, 12, 30).ok_or("date_unreadable")?;
                base.checked_add_days(chrono::Days::new(n.floor() as u64))
                    .map(Some)
                    .ok_or("date_unreadable")
            }
            Some(Value::Text(s)) => parse_date(s).map(Some),
            Some(_) => Err("date_unreadable"),
        }
    }

    /// A number; `number_unreadable` otherwise.
    pub fn number(&self, key: &str) -> Result<Option<f64>, &'static str> {
        match self.cell(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(*n)),
            Some(Value::Text(s)) => {
                s.replace([',', '，'], "").trim().parse().map(Some).map_err(|_| "number_unreadable")
            }
            Some(_) => Err("number_unreadable"),
        }
    }

    /// 是/否, Y/N, yes/no, true/false, 1/0, √/×; `yes_no_unreadable` otherwise.
    pub fn yes_no(&self, key: &str) -> Result<Option<bool>, &'static str> {
        match self.cell(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if *n == 1.0 => Ok(Some(true)),
            Some(Value::Number(n)) if *n == 0.0 => Ok(Some(false)),
            Some(Value::Text(s)) => match s.trim().to_lowercase().as_str() {
                "是" | "y" | "yes" | "true" | "1" | "√" | "✓" => Ok(Some(true)),
                "否" | "n" | "no" | "false" | "0" | "×" | "x" => Ok(Some(false)),
                _ => Err("yes_no_unreadable"),
            },
            Some(_) => Err("yes_no_unreadable"),
        }
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, &'static str> {
    let t = text.trim();
    let t = t.split([' ', 'T']).next().unwrap_or(t);
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, format)
            && (1900..=2999).contains(&d.year())
        {
            return Ok(d);
        }
    }
    Err("date_unreadable")
}

/// The blank template: one header row (required columns marked `*` and red), two sample rows
/// in grey that a clerk overwrites, and a notes sheet with how to fill each column.
pub fn template_xlsx(
    sheet: &str,
    columns: &[Column],
    samples: &[Vec<&str>],
    lang: Lang,
) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let data = workbook.add_worksheet();
    data.set_name(sanitize_sheet_name(sheet))?;
    let header =
        Format::new().set_bold().set_border(FormatBorder::Thin).set_background_color("D9E1F2");
    let required = header.clone().set_font_color(Color::Red);
    let sample = Format::new().set_font_color(Color::Gray);
    for (c, column) in columns.iter().enumerate() {
        let text = if column.required {
            format!("*{}", column.header(lang))
        } else {
            column.header(lang).to_owned()
        };
        data.write_string_with_format(
            0,
            col_index(c),
            &text,
            if column.required { &required } else { &header },
        )?;
        let width = samples
            .iter()
            .filter_map(|s| s.get(c))
            .map(|s| display_width(s))
            .chain([display_width(&text)])
            .max()
            .unwrap_or(8);
        data.set_column_width(col_index(c), (width.min(40) as f64) + 2.0)?;
    }
    for (r, values) in samples.iter().enumerate() {
        for (c, value) in values.iter().enumerate() {
            let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
            data.write_string_with_format(row, col_index(c), *value, &sample)?;
        }
    }
    data.set_freeze_panes(1, 0)?;
    let notes = workbook.add_worksheet();
    notes.set_name(match lang {
        Lang::Zh => "填写说明",
        Lang::En => "Notes",
    })?;
    let heads = match lang {
        Lang::Zh => ["列", "必填", "说明"],
        Lang::En => ["Column", "Required", "How to fill"],
    };
    for (c, h) in heads.iter().enumerate() {
        notes.write_string_with_format(0, col_index(c), *h, &header)?;
    }
    for (r, column) in columns.iter().enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        let (yes, no) = match lang {
            Lang::Zh => ("是", "否"),
            Lang::En => ("yes", "no"),
        };
        notes.write_string(row, 0, column.header(lang))?;
        notes.write_string(row, 1, if column.required { yes } else { no })?;
        notes.write_string(
            row,
            2,
            match lang {
                Lang::Zh => column.hint.0,
                Lang::En => column.hint.1,
            },
        )?;
    }
    notes.set_column_width(0, 24)?;
    notes.set_column_width(2, 80)?;
    Ok(workbook.save_to_buffer()?)
}

/// What became of one row, for the annotated workbook.
#[derive(Debug, Clone)]
pub struct RowNote {
    /// `新增`, `更新`, `未变`, `拒绝` or their English, as the caller words them.
    pub outcome: String,
    /// Problems, each with the sheet column it is about (when known) and its message.
    pub problems: Vec<(Option<usize>, String)>,
}

/// The original sheet, every cell kept, with two columns added — the outcome and the problems —
/// and each cell a problem is about filled red. `note` tells what became of a row by its number.
pub fn annotated_xlsx(
    bytes: &[u8],
    max_rows: usize,
    headings: (&str, &str),
    header_row: u32,
    note: impl Fn(u32) -> Option<RowNote>,
) -> Result<Vec<u8>, AnnotateError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let bad = Format::new().set_background_color("F8CBAD");
    let bold = Format::new().set_bold().set_background_color("D9E1F2");
    let mut width = 0usize;
    let mut pending: Vec<(u32, Vec<Option<Value>>)> = Vec::new();
    rows(bytes, max_rows, |number, cells| {
        width = width.max(cells.len());
        pending.push((number, cells));
        Ok(())
    })?;
    for (number, cells) in &pending {
        let row = number - 1;
        let note = note(*number);
        let marked: Vec<usize> =
            note.iter().flat_map(|n| n.problems.iter().filter_map(|(c, _)| *c)).collect();
        for (c, value) in cells.iter().enumerate() {
            let Some(value) = value else {
                if marked.contains(&c) {
                    sheet.write_blank(row, col_index(c), &bad)?;
                }
                continue;
            };
            let format = if marked.contains(&c) { bad.clone() } else { Format::new() };
            match value {
                Value::Number(n) => {
                    sheet.write_number_with_format(row, col_index(c), *n, &format)?
                }
                other => sheet.write_string_with_format(
                    row,
                    col_index(c),
                    excel_text(&render(other)),
                    &format,
                )?,
            };
        }
        if *number == header_row {
            sheet.write_string_with_format(row, col_index(width), headings.0, &bold)?;
            sheet.write_string_with_format(row, col_index(width + 1), headings.1, &bold)?;
        } else if let Some(note) = note {
            sheet.write_string(row, col_index(width), &note.outcome)?;
            let text: Vec<&str> = note.problems.iter().map(|(_, m)| m.as_str()).collect();
            sheet.write_string(row, col_index(width + 1), excel_text(&text.join("；")))?;
        }
    }
    sheet.set_column_width(col_index(width + 1), 60)?;
    Ok(workbook.save_to_buffer()?)
}

#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

impl From<rust_xlsxwriter::XlsxError> for AnnotateError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        AnnotateError::Export(ExportError(e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    static COLUMNS: [Column; 3] = [
        Column {
            key: "uscc",
            zh: "统一社会信用代码",
            en: "USCC",
            aliases: &["信用代码"],
            required: true,
            hint: ("", ""),
        },
        Column {
            key: "name",
            zh: "企业名称",
            en: "Name",
            aliases: &[],
            required: true,
            hint: ("", ""),
        },
        Column {
            key: "since",
            zh: "成立日期",
            en: "Founded",
            aliases: &[],
            required: false,
            hint: ("", ""),
        },
    ];

    fn workbook(cells: &[(u32, u16, &str)], dates: &[(u32, u16, NaiveDate)]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let s = wb.add_worksheet();
        for (r, c, t) in cells {
            s.write_string(*r, *c, *t).unwrap();
        }
        let f = Format::new().set_num_format("yyyy-mm-dd");
        for (r, c, d) in dates {
            let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(
                d.year() as u16,
                d.month() as u8,
                d.day() as u8,
            )
            .unwrap();
            s.write_datetime_with_format(*r, *c, &dt, &f).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    type Rows = Vec<(u32, Vec<Option<Value>>)>;

    fn read(bytes: &[u8]) -> (Option<Layout>, Rows) {
        let mut layout = None;
        let mut data = Vec::new();
        rows(bytes, 100, |n, cells| {
            if layout.is_none() {
                layout = super::layout(&COLUMNS, n, &cells);
            } else {
                data.push((n, cells));
            }
            Ok(())
        })
        .unwrap();
        (layout, data)
    }

    #[test]
    fn headers_match_whatever_their_order_spacing_and_marks() {
        let bytes = workbook(
            &[
                (0, 0, "企业台账"),
                (1, 0, " 企业 名称 "),
                (1, 2, "*信用代码（18位）"),
                (2, 0, "甲公司"),
                (2, 2, "91350100M000100Y43"),
            ],
            &[(2, 1, NaiveDate::from_ymd_opt(2020, 5, 1).unwrap())],
        );
        // Row 1 is a title; "企业台账" is no header, so the header row is row 2.
        let mut layout = None;
        let mut data = Vec::new();
        rows(&bytes, 100, |n, cells| {
            match &layout {
                None => layout = super::layout(&COLUMNS, n, &cells),
                Some(_) => data.push((n, cells)),
            }
            Ok(())
        })
        .unwrap();
        let layout = layout.unwrap();
        assert_eq!(layout.header_row, 2);
        assert_eq!(layout.positions, vec![Some(2), Some(0), None]);
        assert!(layout.missing.is_empty());
        let (n, cells) = &data[0];
        let row = Row { number: *n, cells, layout: &layout };
        assert_eq!(row.number, 3);
        assert_eq!(row.text("uscc"), "91350100M000100Y43");
        assert_eq!(row.text("name"), "甲公司");
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let bytes = workbook(&[(0, 0, "企业名称"), (1, 0, "甲")], &[]);
        let (layout, _) = read(&bytes);
        let layout = layout.unwrap();
        assert_eq!(layout.missing.len(), 1);
        assert_eq!(layout.missing[0].key, "uscc");
    }

    #[test]
    fn dates_are_read_as_clerks_type_them() {
        let bytes = workbook(
            &[
                (0, 0, "USCC"),
                (0, 1, "Name"),
                (0, 2, "Founded"),
                (2, 2, "2021年3月4日"),
                (3, 2, "2021/3/4"),
                (4, 2, "20210304"),
                (5, 2, "三月"),
                (6, 0, "x"),
            ],
            &[(1, 2, NaiveDate::from_ymd_opt(2021, 3, 4).unwrap())],
        );
        let (layout, data) = read(&bytes);
        let layout = layout.unwrap();
        let dates: Vec<_> = data
            .iter()
            .map(|(n, cells)| Row { number: *n, cells, layout: &layout }.date("since"))
            .collect();
        let d = NaiveDate::from_ymd_opt(2021, 3, 4).unwrap();
        assert_eq!(
            dates,
            vec![
                Ok(Some(d)),
                Ok(Some(d)),
                Ok(Some(d)),
                Ok(Some(d)),
                Err("date_unreadable"),
                Ok(None)
            ]
        );
    }

    #[test]
    fn a_file_that_is_no_workbook_is_refused() {
        assert_eq!(rows(b"uscc,name\n", 10, |_, _| Ok(())).unwrap_err().code, "not_a_workbook");
        let bytes = workbook(&[(0, 0, "a"), (1, 0, "b"), (2, 0, "c")], &[]);
        assert_eq!(rows(&bytes, 2, |_, _| Ok(())).unwrap_err().code, "too_many_rows");
    }

    #[test]
    fn the_annotated_workbook_keeps_every_cell_and_adds_the_outcome() {
        let bytes = workbook(&[(0, 0, "USCC"), (0, 1, "Name"), (1, 0, "bad"), (1, 1, "甲")], &[]);
        let out = annotated_xlsx(&bytes, 10, ("结果", "问题"), 1, |n| {
            (n == 2).then(|| RowNote {
                outcome: "拒绝".into(),
                problems: vec![(Some(0), "代码校验位错误".into())],
            })
        })
        .unwrap();
        let mut seen = Vec::new();
        rows(&out, 10, |_, cells| {
            seen.push(
                cells
                    .iter()
                    .map(|c| c.as_ref().map(render).unwrap_or_default())
                    .collect::<Vec<_>>(),
            );
            Ok(())
        })
        .unwrap();
        assert_eq!(seen[0], vec!["USCC", "Name", "结果", "问题"]);
        assert_eq!(seen[1], vec!["bad", "甲", "拒绝", "代码校验位错误"]);
    }

    #[test]
    fn headers_are_normalised() {
        assert_eq!(normalise_header(" *统一社会 信用代码（必填）"), "统一社会信用代码");
        assert_eq!(normalise_header("Name [en]"), "name");
    }
}
