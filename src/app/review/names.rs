//! The names the review queue's lines show (organisation and user code, assignee, place and
//! its office), kept by the node between pages. A page reads `submissions` only, with the
//! names' version (`name_version`, moved by the database itself on every rename); the names
//! kept are used while that version stands, and the ones a page lacks are read in one
//! statement. A rename made through any node therefore shows on the very next page of every
//! node, and a busy queue costs one index walk per page instead of four lookups per line.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

use crate::db::{self, Db, queue::QueueRow};

/// The most names kept: past it the book starts again (thousands of organisations and their
/// places fit many times over).
const MOST: usize = 200_000;

/// The names one node keeps, with the version they were read at.
#[derive(Default)]
pub struct NameBook {
    inner: Mutex<Book>,
}

#[derive(Default)]
struct Book {
    at: i64,
    orgs: HashMap<Uuid, (String, String)>,
    people: HashMap<Uuid, String>,
    places: HashMap<Uuid, (String, Option<String>)>,
}

impl Book {
    fn len(&self) -> usize {
        self.orgs.len() + self.people.len() + self.places.len()
    }

    /// Moves to version `at` when it is newer (what is kept is then dropped). An older
    /// version (a read that began before a rename committed) leaves the newer names in place.
    fn move_to(&mut self, at: i64) {
        if at > self.at || self.len() > MOST {
            *self = Book {
                at: at.max(self.at),
                ..Book::default()
            };
        }
    }

    fn add(&mut self, n: db::queue::QueueName) {
        match n.kind.as_str() {
            "o" => {
                self.orgs
                    .insert(n.id, (n.name, n.extra.unwrap_or_default()));
            }
            "u" => {
                self.people.insert(n.id, n.name);
            }
            _ => {
                self.places.insert(n.id, (n.name, n.extra));
            }
        }
    }
}

/// The names of one line.
#[derive(Debug, Clone, Default)]
pub struct LineNames {
    pub org_name: String,
    pub org_code: String,
    pub assignee: Option<String>,
    pub place: Option<String>,
    pub place_office: Option<String>,
}

impl NameBook {
    /// The names of `rows` (one page, read at one names' version), in their order: from the
    /// book, and those it lacks read from the database (and kept when their version is the
    /// book's). The lines are put together under the same lock that found the book complete,
    /// so a rename seen meanwhile by another page cannot leave a line without its names.
    pub async fn lines(&self, db: &Db, rows: &[QueueRow]) -> Result<Vec<LineNames>, sqlx::Error> {
        let Some(at) = rows.first().map(|r| r.names_at) else {
            return Ok(Vec::new());
        };
        // Names read at another version than the book's: for this page only.
        let mut fresh = Book::default();
        let mut reads = 0;
        loop {
            let (orgs, people, places) = {
                let mut book = self.lock();
                book.move_to(at);
                let (mut orgs, mut people, mut places) = (Vec::new(), Vec::new(), Vec::new());
                for r in rows {
                    lacking([&fresh.orgs, &book.orgs], Some(r.org_id), &mut orgs);
                    lacking([&fresh.people, &book.people], r.assigned_to, &mut people);
                    lacking([&fresh.places, &book.places], r.location_id, &mut places);
                }
                // Twice at most: a name still lacking then is gone from the database.
                if (orgs.is_empty() && people.is_empty() && places.is_empty()) || reads == 2 {
                    return Ok(rows.iter().map(|r| line(r, &fresh, &book)).collect());
                }
                (orgs, people, places)
            };
            reads += 1;
            let read = db::queue::names(db, &orgs, &people, &places).await?;
            let mut book = self.lock();
            if let Some(v) = read.first().map(|n| n.names_at) {
                book.move_to(v);
            }
            for n in read {
                if n.names_at == book.at {
                    book.add(n);
                } else {
                    fresh.add(n);
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Adds `id` to `list` when neither book has it and it is not listed yet.
fn lacking<V>(books: [&HashMap<Uuid, V>; 2], id: Option<Uuid>, list: &mut Vec<Uuid>) {
    if let Some(id) = id
        && !books.iter().any(|b| b.contains_key(&id))
        && !list.contains(&id)
    {
        list.push(id);
    }
}

/// The names of one line: as read for this page, else as kept.
fn line(r: &QueueRow, fresh: &Book, kept: &Book) -> LineNames {
    fn pick<'a, V>(
        a: &'a HashMap<Uuid, V>,
        b: &'a HashMap<Uuid, V>,
        id: Option<Uuid>,
    ) -> Option<&'a V> {
        let id = id?;
        a.get(&id).or_else(|| b.get(&id))
    }
    let (org_name, org_code) = pick(&fresh.orgs, &kept.orgs, Some(r.org_id))
        .cloned()
        .unwrap_or_default();
    let (place, place_office) = pick(&fresh.places, &kept.places, r.location_id)
        .cloned()
        .map_or((None, None), |(name, office)| (Some(name), office));
    LineNames {
        org_name,
        org_code,
        assignee: pick(&fresh.people, &kept.people, r.assigned_to).cloned(),
        place,
        place_office,
    }
}
