//! Finding an enterprise by a fragment: which trigrams of the register are common, so that a
//! fragment is looked up in the trigram index by its rare part and checked whole afterwards.
//!
//! Both trigram indexes (SQLite's FTS5 table, PostgreSQL's `pg_trgm`) intersect the posting
//! lists of every trigram of a fragment. A fragment such as 化工有限公司 has trigrams that
//! three names in four share (有限公, 限公司), and reading those lists was the whole cost of
//! its search (docs/benchmarks.md, 2026-12-06, later).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::Row;

use super::PAIR_MARK;
use crate::{Backend, Store, StoreError};

/// A trigram, as characters of the lower-cased search text.
pub(crate) type Trigram = [char; 3];

/// A trigram is common when more than one enterprise in `SHARE` has it, and at least
/// `MIN_ROWS` do: below that its posting list costs nothing worth avoiding.
const SHARE: usize = 50;
const MIN_ROWS: usize = 500;
/// How long a count of the register's trigrams serves before one search counts again.
const REFRESH: Duration = Duration::from_secs(3600);

/// How a search reads the register's text: the backend, and the trigrams it should not look
/// a fragment up by.
pub(crate) struct TextSearch {
    pub backend: Backend,
    pub common: Arc<HashSet<Trigram>>,
}

/// The common trigrams a store keeps (see [`Store::kept`]), with when they were counted.
#[derive(Default)]
pub(crate) struct CommonTrigrams {
    last: Mutex<Option<(Instant, Arc<HashSet<Trigram>>)>>,
    counting: tokio::sync::Mutex<()>,
}

/// The trigrams of `text` (by characters).
fn trigrams(text: &str) -> impl Iterator<Item = Trigram> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(2)).map(move |i| [chars[i], chars[i + 1], chars[i + 2]])
}

/// Counts in how many texts each trigram is (once per text), a text at a time.
#[derive(Default)]
struct TrigramCount {
    counts: HashMap<Trigram, usize>,
    rows: usize,
    seen: Vec<Trigram>,
}

impl TrigramCount {
    fn add(&mut self, text: &str) {
        self.rows += 1;
        self.seen.clear();
        self.seen.extend(trigrams(text));
        self.seen.sort_unstable();
        self.seen.dedup();
        for t in &self.seen {
            *self.counts.entry(*t).or_default() += 1;
        }
    }

    /// The trigrams that are common among the texts counted.
    fn common(self) -> HashSet<Trigram> {
        let rows = self.rows;
        self.counts
            .into_iter()
            .filter(|(_, n)| *n >= MIN_ROWS && *n * SHARE > rows)
            .map(|(t, _)| t)
            .collect()
    }
}

/// What of a fragment (of three characters or more) the trigram index is asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The whole fragment: none of its trigrams is common.
    Whole,
    /// The longest run of the fragment whose trigrams are all rare; the fragment itself is
    /// then checked on the rows the index finds.
    Part(String),
    /// Every trigram is common: the fragment matches much of the register, which is read in
    /// name order instead (its first page comes early).
    Scan,
}

pub(crate) fn lookup(fragment: &str, common: &HashSet<Trigram>) -> Lookup {
    let chars: Vec<char> = fragment.chars().collect();
    let rare: Vec<bool> = trigrams(fragment).map(|t| !common.contains(&t)).collect();
    if rare.iter().all(|r| *r) {
        return Lookup::Whole;
    }
    // The longest run of rare trigrams, as (first trigram, count).
    let (mut best, mut start) = ((0, 0), 0);
    for (i, r) in rare.iter().enumerate() {
        if !r {
            start = i + 1;
        } else if i + 1 - start > best.1 {
            best = (start, i + 1 - start);
        }
    }
    match best {
        (_, 0) => Lookup::Scan,
        (first, n) => Lookup::Part(chars[first..first + n + 2].iter().collect()),
    }
}

impl Store {
    /// How a search for `q` reads the register now. A fragment of three characters or more
    /// needs the common trigrams, counted on the first such search and again an hour later
    /// (by one search; the others keep the last count meanwhile).
    pub(crate) async fn text_search(&self, q: Option<&str>) -> Result<TextSearch, StoreError> {
        let text = |common| TextSearch { backend: self.backend(), common };
        if q.is_none_or(|q| q.trim().chars().count() < 3) {
            return Ok(text(Arc::default()));
        }
        let kept = self.kept::<CommonTrigrams>();
        let last = || kept.last.lock().ok().and_then(|last| last.clone());
        let _counting = match last() {
            Some((at, common)) if at.elapsed() < REFRESH => return Ok(text(common)),
            Some((_, common)) => match kept.counting.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(text(common)),
            },
            None => {
                let guard = kept.counting.lock().await;
                if let Some((_, common)) = last() {
                    return Ok(text(common));
                }
                guard
            }
        };
        let common = Arc::new(self.count_trigrams().await?);
        if let Ok(mut last) = kept.last.lock() {
            *last = Some((Instant::now(), Arc::clone(&common)));
        }
        Ok(text(common))
    }

    /// Reads the register's search texts (names, codes, addresses; not the pairs) as a stream
    /// and counts their trigrams.
    async fn count_trigrams(&self) -> Result<HashSet<Trigram>, StoreError> {
        let mut count = TrigramCount::default();
        let mut rows = sqlx::query("SELECT search_text FROM enterprises").fetch(self.reader());
        while let Some(row) = rows.try_next().await? {
            let text: String = row.try_get("search_text")?;
            count.add(text.split(PAIR_MARK).next().unwrap_or_default().trim_end());
        }
        Ok(count.common())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(of: &[&str]) -> HashSet<Trigram> {
        of.iter().flat_map(|t| trigrams(t)).collect()
    }

    fn common_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> HashSet<Trigram> {
        let mut count = TrigramCount::default();
        texts.into_iter().for_each(|t| count.add(t));
        count.common()
    }

    #[test]
    fn a_fragment_is_looked_up_by_its_longest_rare_run() {
        let common = set(&["有限公司"]);
        assert_eq!(lookup("港华化工", &common), Lookup::Whole);
        assert_eq!(lookup("化工有限公司", &common), Lookup::Part("化工有限".into()));
        assert_eq!(lookup("有限公司滨江", &common), Lookup::Part("公司滨江".into()));
        assert_eq!(lookup("有限公司", &common), Lookup::Scan);
        assert_eq!(lookup("限公司", &common), Lookup::Scan);
        // Two rare runs: the longer one.
        let common = set(&["xyz"]);
        assert_eq!(lookup("abxyzcde", &common), Lookup::Part("yzcde".into()));
    }

    #[test]
    fn common_trigrams_are_those_of_many_texts_and_more_than_one_in_fifty() {
        let mut texts: Vec<String> = (0..600).map(|i| format!("企业{i}有限公司")).collect();
        // 600 of 600: common. Counted once per text, however often a text repeats it.
        let common = common_of(texts.iter().map(String::as_str));
        assert!(common.contains(&['有', '限', '公']));
        assert!(!common.contains(&['企', '业', '1']), "in 111 texts only");
        // 600 of 40,000 is fewer than one in fifty.
        texts.extend((0..39_400).map(|i| format!("{i}")));
        assert!(common_of(texts.iter().map(String::as_str)).is_empty());
        // Under 500 texts nothing is common.
        assert!(common_of(["有限公司有限公司"; 499]).is_empty());
    }
}
