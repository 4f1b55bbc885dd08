//! Attachments (docs/attachments.md): what each purpose of file may be, checked by its content
//! (magic bytes), never by its name or the type a browser claims, and file names made safe to
//! keep and to send back.

use serde::Serialize;
use utoipa::ToSchema;

/// How many leading bytes are enough to tell every accepted type apart (an Office file is a zip
/// whose first entries name its kind).
pub const SNIFF_BYTES: usize = 8 * 1024;

const MIB: u64 = 1024 * 1024;

/// A type of file Beacon keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Jpeg,
    Png,
    Webp,
    Docx,
    Xlsx,
}

impl FileType {
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Webp => "image/webp",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// Whether a thumbnail is made of it.
    pub fn is_image(self) -> bool {
        matches!(self, FileType::Jpeg | FileType::Png | FileType::Webp)
    }

    /// What the first bytes of a file are, if one of the kept types.
    pub fn sniff(head: &[u8]) -> Option<FileType> {
        let found = infer::get(head)?;
        match found.mime_type() {
            "application/pdf" => Some(FileType::Pdf),
            "image/jpeg" => Some(FileType::Jpeg),
            "image/png" => Some(FileType::Png),
            "image/webp" => Some(FileType::Webp),
            m if m == FileType::Docx.mime() => Some(FileType::Docx),
            m if m == FileType::Xlsx.mime() => Some(FileType::Xlsx),
            _ => None,
        }
    }
}

/// What an attachment is for; each purpose has its types and its largest size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A scan of a paper (a licence, a letter): PDF or an image, up to 20 MiB.
    Scan,
    /// A photo (a hazard before and after): JPEG, PNG or WebP, up to 10 MiB.
    Photo,
    /// A document: PDF, an image, Word or Excel (docx, xlsx), up to 50 MiB.
    Document,
}

pub const PURPOSES: [Purpose; 3] = [Purpose::Scan, Purpose::Photo, Purpose::Document];

impl Purpose {
    pub fn parse(s: &str) -> Option<Purpose> {
        PURPOSES.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Scan => "scan",
            Purpose::Photo => "photo",
            Purpose::Document => "document",
        }
    }

    /// The largest file, in bytes.
    pub fn max_size(self) -> u64 {
        match self {
            Purpose::Scan => 20 * MIB,
            Purpose::Photo => 10 * MIB,
            Purpose::Document => 50 * MIB,
        }
    }

    pub fn types(self) -> &'static [FileType] {
        use FileType::*;
        match self {
            Purpose::Scan => &[Pdf, Jpeg, Png],
            Purpose::Photo => &[Jpeg, Png, Webp],
            Purpose::Document => &[Pdf, Jpeg, Png, Webp, Docx, Xlsx],
        }
    }

    /// The type of a file of this purpose from its first bytes ([`SNIFF_BYTES`] or the whole
    /// file when shorter), or `file_type_not_allowed`.
    pub fn check(self, head: &[u8]) -> Result<FileType, &'static str> {
        FileType::sniff(head).filter(|t| self.types().contains(t)).ok_or("file_type_not_allowed")
    }
}

/// The largest file any purpose takes: what an upload may send at most.
pub fn largest_size() -> u64 {
    PURPOSES.iter().map(|p| p.max_size()).max().unwrap_or(0)
}

/// The longest file name kept, in characters (the extension is kept when cutting).
pub const FILE_NAME_MAX: usize = 120;

/// A file name as a browser sends it, made safe: only the last path component (either slash),
/// no control characters nor characters Windows refuses (`<>:"|?*`), no leading dots, trimmed,
/// at most [`FILE_NAME_MAX`] characters with the extension kept. Chinese stays as it is. A name
/// with nothing left is `required`.
pub fn sanitize_file_name(name: &str) -> Result<String, &'static str> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        return Err("required");
    }
    if cleaned.chars().count() <= FILE_NAME_MAX {
        return Ok(cleaned.to_owned());
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 10 => (stem, ext),
        _ => (cleaned, ""),
    };
    let room = FILE_NAME_MAX - if ext.is_empty() { 0 } else { ext.chars().count() + 1 };
    let stem: String = stem.chars().take(room).collect();
    let stem = stem.trim_end();
    Ok(if ext.is_empty() { stem.to_owned() } else { format!("{stem}.{ext}") })
}

/// The longest reason for removing an attachment, in characters.
pub const REMOVE_REASON_MAX: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0";

    #[test]
    fn types_come_from_content_not_names() {
        assert_eq!(Purpose::Scan.check(PNG), Ok(FileType::Png));
        assert_eq!(Purpose::Scan.check(PDF), Ok(FileType::Pdf));
        assert_eq!(Purpose::Photo.check(JPEG), Ok(FileType::Jpeg));
        // A photo is not a PDF, and text is nothing at all, whatever it is called.
        assert_eq!(Purpose::Photo.check(PDF), Err("file_type_not_allowed"));
        assert_eq!(Purpose::Document.check(b"hello, I am x.png"), Err("file_type_not_allowed"));
        assert_eq!(Purpose::Scan.check(b""), Err("file_type_not_allowed"));
        assert_eq!(FileType::sniff(PNG).map(FileType::mime), Some("image/png"));
        assert!(FileType::Webp.is_image() && !FileType::Pdf.is_image());
    }

    #[test]
    fn purposes_and_limits() {
        assert_eq!(Purpose::parse("photo"), Some(Purpose::Photo));
        assert_eq!(Purpose::parse("Photo"), None);
        assert_eq!(Purpose::Photo.max_size(), 10 * MIB);
        assert_eq!(largest_size(), 50 * MIB);
        for p in PURPOSES {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn file_names_lose_paths_and_controls_but_keep_chinese() {
        assert_eq!(sanitize_file_name("营业执照 扫描件.pdf"), Ok("营业执照 扫描件.pdf".into()));
        assert_eq!(sanitize_file_name("C:\\Users\\王五\\许可证.png"), Ok("许可证.png".into()));
        assert_eq!(sanitize_file_name("../../etc/passwd"), Ok("passwd".into()));
        assert_eq!(sanitize_file_name("a\u{0}b\nc\u{7f}.jpg"), Ok("abc.jpg".into()));
        assert_eq!(sanitize_file_name("..hidden"), Ok("hidden".into()));
        assert_eq!(sanitize_file_name("what?<x>.png"), Ok("whatx.png".into()));
        assert_eq!(sanitize_file_name("  "), Err("required"));
        assert_eq!(sanitize_file_name("dir/"), Err("required"));
        let long = format!("{}.pdf", "安".repeat(300));
        let cut = sanitize_file_name(&long).unwrap_or_default();
        assert_eq!(cut.chars().count(), FILE_NAME_MAX);
        assert!(cut.ends_with(".pdf"));
    }
}
