//! Finding an enterprise by a fragment: which trigrams of the register are common, so that a
//! fragment is looked up in the trigram index by its rare part and checked whole afterwards.
//!
//! Both trigram indexes (SQLite's FTS5 table, PostgreSQL's `pg_trgm`) intersect the posting
//! lists of every trigram of a fragment. A fragment such as 化工有限公司 has trigrams that
//! three names in four share (有限公, 限公司), and reading those lists was the whole cost of
//! its search (docs/benchmarks.md, 2026-12-06, later).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::Row;

use super::PAIR_MARK;
use crate::sql::Sql;
use crate::{Backend, Store, StoreError};

/// A trigram, as characters of the lower-cased search text.
pub(crate) type Trigram = [char; 3];

/// A trigram is common when more than one enterprise in `SHARE` has it, and at least
/// `MIN_ROWS` do: below that its posting list costs nothing worth avoiding.
const SHARE: usize = 50;
const MIN_ROWS: usize = 500;
/// A common trigram is indexed in name order (`enterprise_trigram_names`, migration 0025) when
/// at most one enterprise in `INDEXED_SHARE` has it, and it is common among the names alone: a
/// fragment whose rarest trigram is in more rows than that finds a match every few entries of
/// the name index anyway, and users search by names (a fragment of a code or an address whose
/// trigrams are all common keeps the name index). Indexing more would cost room and writes
/// for little: the bench's register has 146 such trigrams of its codes and addresses as well
/// (448,000 names to keep, 8 s to add), against 48 of its names (106,598).
const INDEXED_SHARE: usize = 8;
/// How long a count of the register's trigrams serves before one search counts again.
const REFRESH: Duration = Duration::from_secs(3600);

/// What a store knows of the register's trigrams from its last count.
#[derive(Default)]
pub(crate) struct Trigrams {
    /// The common trigrams, with in how many search texts each is.
    common: HashMap<Trigram, usize>,
    /// Those of them whose enterprises' names are kept in name order.
    indexed: HashSet<Trigram>,
}

/// How a search reads the register's text: the backend, the register's trigrams, and for a
/// list in name order (see [`TextSearch::walking`]) the trigram whose names it walks.
pub(crate) struct TextSearch {
    pub backend: Backend,
    trigrams: Arc<Trigrams>,
    walk: Option<String>,
}

impl TextSearch {
    pub(crate) fn is_common(&self, trigram: &Trigram) -> bool {
        self.trigrams.common.contains_key(trigram)
    }

    /// For a list of enterprises in name order, whose rows are read `FROM` [`Self::from`] in
    /// [`Self::order`]: a fragment whose trigrams are all common is read from the kept names
    /// of its rarest indexed trigram, if it has one, instead of the whole name index.
    pub(crate) fn walking(mut self, q: Option<&str>) -> Self {
        let fragment = q.map(fragment).unwrap_or_default();
        if fragment.chars().count() >= 3 && lookup(&fragment, |t| self.is_common(t)) == Lookup::Scan
        {
            self.walk = trigrams(&fragment)
                .filter(|t| self.trigrams.indexed.contains(t))
                .min_by_key(|t| (self.trigrams.common.get(t).copied().unwrap_or(usize::MAX), *t))
                .map(|t| t.iter().collect());
        }
        self
    }

    /// The trigram whose kept names the list walks, if any.
    pub(crate) fn walk(&self) -> Option<&str> {
        self.walk.as_deref()
    }

    /// What a list in name order reads: the enterprises as `e`, joined to `g`, the names of
    /// the walked trigram, when there is one (the name order is then `g`'s).
    pub(crate) fn from(&self) -> &'static str {
        match self.walk {
            // SQLite keeps a `CROSS JOIN`'s order: the names drive, in their key's order.
            Some(_) => "enterprise_trigram_names g CROSS JOIN enterprises e",
            None => "enterprises e",
        }
    }

    /// The first condition of a list that reads [`Self::from`] (`WHERE` follows it).
    pub(crate) fn join(&self) -> &'static str {
        match self.walk {
            Some(_) => "e.id = g.enterprise_id",
            None => "1 = 1",
        }
    }

    pub(crate) fn order(&self) -> &'static str {
        match self.walk {
            Some(_) => "g.name, g.enterprise_id",
            None => "e.name, e.id",
        }
    }
}

/// A fragment typed in the search box as it is matched: lower-cased, trimmed, without the
/// character that marks the search text's pairs.
pub(crate) fn fragment(q: &str) -> String {
    q.replace(PAIR_MARK, "").trim().to_lowercase()
}

/// The common trigrams a store keeps (see [`Store::kept`]), with when they were counted.
#[derive(Default)]
pub(crate) struct CommonTrigrams {
    last: Mutex<Option<(Instant, Arc<Trigrams>)>>,
    counting: tokio::sync::Mutex<()>,
    /// Whether trigrams are being added to the index (by one task at a time).
    indexing: AtomicBool,
}

impl CommonTrigrams {
    fn last(&self) -> Option<(Instant, Arc<Trigrams>)> {
        self.last.lock().ok().and_then(|last| last.clone())
    }

    fn set(&self, at: Instant, trigrams: Arc<Trigrams>) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some((at, trigrams));
        }
    }

    /// Adds `added` to the indexed trigrams of the last count.
    fn indexed(&self, added: &[Trigram]) {
        if let Some((at, last)) = self.last() {
            let indexed = last.indexed.iter().chain(added).copied();
            let indexed = indexed.filter(|t| last.common.contains_key(t)).collect();
            self.set(at, Arc::new(Trigrams { common: last.common.clone(), indexed }));
        }
    }
}

/// The trigrams of `text` (by characters).
fn trigrams(text: &str) -> impl Iterator<Item = Trigram> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(2)).map(move |i| [chars[i], chars[i + 1], chars[i + 2]])
}

/// Counts in how many texts each trigram is (once per text), and in how many names, a text
/// at a time.
#[derive(Default)]
struct TrigramCount {
    counts: HashMap<Trigram, usize>,
    names: HashMap<Trigram, usize>,
    rows: usize,
    seen: Vec<Trigram>,
}

impl TrigramCount {
    /// Counts an enterprise's search text (without its pairs) and its name (lower-cased).
    fn add(&mut self, text: &str, name: &str) {
        self.rows += 1;
        for (of, counts) in [(text, &mut self.counts), (name, &mut self.names)] {
            self.seen.clear();
            self.seen.extend(trigrams(of));
            self.seen.sort_unstable();
            self.seen.dedup();
            for t in &self.seen {
                *counts.entry(*t).or_default() += 1;
            }
        }
    }

    /// The trigrams that are common among the texts counted, with their counts, and those of
    /// them that should be indexed in name order.
    fn common(self) -> (HashMap<Trigram, usize>, Vec<Trigram>) {
        let rows = self.rows;
        let is_common = |n: usize| n >= MIN_ROWS && n * SHARE > rows;
        let names = self.names;
        let common: HashMap<_, _> =
            self.counts.into_iter().filter(|(_, n)| is_common(*n)).collect();
        let mut indexed: Vec<_> = common
            .iter()
            .filter(|(t, n)| {
                **n * INDEXED_SHARE <= rows && names.get(*t).is_some_and(|n| is_common(*n))
            })
            .map(|(t, _)| *t)
            .collect();
        indexed.sort_unstable();
        (common, indexed)
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
    /// name order instead (its first page comes early), by the names of an indexed trigram
    /// when the list can (see [`TextSearch::walking`]).
    Scan,
}

pub(crate) fn lookup(fragment: &str, is_common: impl Fn(&Trigram) -> bool) -> Lookup {
    let chars: Vec<char> = fragment.chars().collect();
    let rare: Vec<bool> = trigrams(fragment).map(|t| !is_common(&t)).collect();
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
        let text = |trigrams| TextSearch { backend: self.backend(), trigrams, walk: None };
        if q.is_none_or(|q| fragment(q).chars().count() < 3) {
            return Ok(text(Arc::default()));
        }
        let kept = self.kept::<CommonTrigrams>();
        let _counting = match kept.last() {
            Some((at, trigrams)) if at.elapsed() < REFRESH => return Ok(text(trigrams)),
            Some((_, trigrams)) => match kept.counting.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(text(trigrams)),
            },
            None => {
                let guard = kept.counting.lock().await;
                if let Some((_, trigrams)) = kept.last() {
                    return Ok(text(trigrams));
                }
                guard
            }
        };
        let (trigrams, missing) = self.count_trigrams().await?;
        kept.set(Instant::now(), Arc::clone(&trigrams));
        // Trigrams to index: added by a task of their own (the names of every enterprise that
        // has one are written), which tells the kept count when they are there.
        if !missing.is_empty() {
            let store = self.clone();
            tokio::spawn(async move {
                if let Err(error) = store.index_trigrams(&missing).await {
                    tracing::warn!(%error, "indexing the register's trigrams failed");
                }
            });
        }
        Ok(text(trigrams))
    }

    /// Counts the register's trigrams and indexes in name order those that should be and are
    /// not yet: run hourly (and at start) by the server's maintenance, so that searches find
    /// them indexed. Searches wait only for the count, not for the indexing. Returns how many
    /// trigrams it added.
    pub async fn index_register_text(&self) -> Result<usize, StoreError> {
        let kept = self.kept::<CommonTrigrams>();
        let missing = {
            let _counting = kept.counting.lock().await;
            let (trigrams, missing) = self.count_trigrams().await?;
            kept.set(Instant::now(), trigrams);
            missing
        };
        self.index_trigrams(&missing).await
    }

    /// Indexes `missing` and tells the kept count, one indexing at a time (while another runs,
    /// this one adds nothing). Returns how many trigrams it added.
    async fn index_trigrams(&self, missing: &[Trigram]) -> Result<usize, StoreError> {
        let kept = self.kept::<CommonTrigrams>();
        if missing.is_empty() || kept.indexing.swap(true, Ordering::AcqRel) {
            return Ok(0);
        }
        let added = self.add_indexed_trigrams(missing).await;
        kept.indexing.store(false, Ordering::Release);
        if !added? {
            return Ok(0);
        }
        kept.indexed(missing);
        Ok(missing.len())
    }

    /// Reads the register's search texts (names, codes, addresses; not the pairs) as a stream
    /// and counts their trigrams; with the indexed ones, read from the database (another
    /// instance may have added some). Returns them and the trigrams that should be indexed and
    /// are not.
    async fn count_trigrams(&self) -> Result<(Arc<Trigrams>, Vec<Trigram>), StoreError> {
        let mut count = TrigramCount::default();
        let mut rows =
            sqlx::query("SELECT name, search_text FROM enterprises").fetch(self.reader());
        while let Some(row) = rows.try_next().await? {
            let text: String = row.try_get("search_text")?;
            let name: String = row.try_get("name")?;
            count.add(
                text.split(PAIR_MARK).next().unwrap_or_default().trim_end(),
                &name.to_lowercase(),
            );
        }
        let (common, wanted) = count.common();
        let mut indexed = HashSet::new();
        for row in sqlx::query("SELECT trigram FROM enterprise_indexed_trigrams")
            .fetch_all(self.reader())
            .await?
        {
            let text: String = row.try_get("trigram")?;
            if let Some(t) = trigrams(&text).next().filter(|t| common.contains_key(t)) {
                indexed.insert(t);
            }
        }
        let missing = wanted.into_iter().filter(|t| !indexed.contains(t)).collect();
        Ok((Arc::new(Trigrams { common, indexed }), missing))
    }

    /// Adds trigrams to the index in one transaction (the triggers of migration 0025 write
    /// the names of every enterprise that has one). On PostgreSQL it takes the register's
    /// lock against writers first, so that no enterprise written meanwhile is missed, and
    /// gives up (returns false) rather than wait for a long writer such as an import.
    async fn add_indexed_trigrams(&self, added: &[Trigram]) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        if self.backend() == Backend::Postgres {
            let locked =
                sqlx::query("LOCK TABLE enterprises IN SHARE MODE NOWAIT").execute(&mut *tx).await;
            match locked {
                Ok(_) => {}
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                    tracing::info!("the register is being written: its trigrams are indexed later");
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut sql = Sql::new("INSERT INTO enterprise_indexed_trigrams (trigram) VALUES ");
        for (i, t) in added.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" }).bind(t.iter().collect::<String>()).push(")");
        }
        sql.push(" ON CONFLICT (trigram) DO NOTHING");
        sql.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(of: &[&str]) -> HashSet<Trigram> {
        of.iter().flat_map(|t| trigrams(t)).collect()
    }

    fn count_of<'a>(
        texts: impl IntoIterator<Item = &'a str>,
    ) -> (HashMap<Trigram, usize>, Vec<Trigram>) {
        let mut count = TrigramCount::default();
        texts.into_iter().for_each(|t| count.add(t, t));
        count.common()
    }

    fn common_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> HashSet<Trigram> {
        count_of(texts).0.into_keys().collect()
    }

    #[test]
    fn a_fragment_is_looked_up_by_its_longest_rare_run() {
        let common = set(&["有限公司"]);
        let lookup = |f: &str, common: &HashSet<Trigram>| lookup(f, |t| common.contains(t));
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

    #[test]
    fn common_trigrams_of_at_most_one_text_in_eight_are_indexed() {
        // 4,000 names of one form, 500 of them (one in nine) of one trade.
        let texts: Vec<String> = (0..4_500)
            .map(|i| {
                if i % 9 == 0 {
                    format!("企业{i}化工有限公司")
                } else {
                    format!("企业{i}有限公司")
                }
            })
            .collect();
        let (common, indexed) = count_of(texts.iter().map(String::as_str));
        assert_eq!(common.get(&['化', '工', '有']), Some(&500));
        assert!(indexed.contains(&['化', '工', '有']) && indexed.contains(&['工', '有', '限']));
        assert!(
            common.contains_key(&['有', '限', '公']) && !indexed.contains(&['有', '限', '公']),
            "in every text"
        );
        // Common in the texts but not in the names (an address): not indexed.
        let mut count = TrigramCount::default();
        for i in 0..4_500 {
            let name = format!("企业{i}有限公司");
            count.add(&format!("{name} {}", if i % 9 == 0 { "滨江路" } else { "" }), &name);
        }
        let (common, indexed) = count.common();
        assert!(common.contains_key(&['滨', '江', '路']) && !indexed.contains(&['滨', '江', '路']));
        // One more in eight: no longer indexed.
        let texts: Vec<String> = (0..3_990)
            .map(|i| format!("企业{i}{}有限公司", if i % 8 == 0 { "化工" } else { "" }))
            .collect();
        assert!(!count_of(texts.iter().map(String::as_str)).1.contains(&['化', '工', '有']));
    }

    #[test]
    fn a_list_in_name_order_walks_the_names_of_the_rarest_indexed_trigram() {
        let t = |s: &str| trigrams(s).next().unwrap();
        let common = HashMap::from([
            (t("化工有"), 900),
            (t("工有限"), 600),
            (t("有限公"), 9_000),
            (t("限公司"), 9_000),
        ]);
        let text = |indexed: &[&str]| TextSearch {
            backend: Backend::Sqlite,
            trigrams: Arc::new(Trigrams {
                common: common.clone(),
                indexed: indexed.iter().map(|s| t(s)).collect(),
            }),
            walk: None,
        };
        let all = text(&["化工有", "工有限"]).walking(Some(" 化工有限公司 "));
        assert_eq!(all.walk(), Some("工有限"));
        assert_eq!(all.from(), "enterprise_trigram_names g CROSS JOIN enterprises e");
        assert_eq!(text(&["化工有"]).walking(Some("化工有限公司")).walk(), Some("化工有"));
        // Nothing indexed, a rare trigram (the trigram index answers), too short, or no list
        // in name order: the name index.
        assert_eq!(text(&[]).walking(Some("化工有限公司")).walk(), None);
        assert_eq!(text(&["化工有"]).walking(Some("甲化工有限公司")).walk(), None);
        assert_eq!(text(&["化工有"]).walking(Some("化工")).walk(), None);
        let unwalked = text(&["化工有"]);
        assert_eq!(
            (unwalked.walk(), unwalked.from(), unwalked.order()),
            (None, "enterprises e", "e.name, e.id")
        );
    }
}
