//! Paging of list endpoints, with an explicit ceiling on page size.

use crate::error::ValidationErrors;

pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, per_page: DEFAULT_PER_PAGE }
    }
}

impl PageRequest {
    /// `page` counts from 1; `per_page` from 1 to [`MAX_PER_PAGE`].
    pub fn parse(page: Option<u32>, per_page: Option<u32>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page == 0 || page > 1_000_000 {
            errors.add("page", "out_of_range");
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            errors.add("per_page", "out_of_range");
        }
        errors.into_result()?;
        Ok(Self { page, per_page })
    }

    pub fn offset(&self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.per_page)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(PageRequest::parse(None, None).unwrap(), PageRequest::default());
        assert_eq!(PageRequest::parse(Some(3), Some(200)).unwrap().offset(), 400);
        assert!(PageRequest::parse(Some(0), None).is_err());
        let err = PageRequest::parse(None, Some(201)).unwrap_err();
        assert_eq!(err.get("per_page"), Some("out_of_range"));
    }
}
