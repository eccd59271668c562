//! Listing and search, `GET /api/clients`: keyset pages that never repeat or skip a client
//! while others are inserted and deleted; every filter (status, tag, created_after/before, q) and sort
//! checked against a model of the book built in the test, the complete id sequences
//! compared, paged by cursor and by `Link`; cursors tied to their query and checksummed;
//! bad parameters refused with 400 naming them.

use super::support::*;
use crm_tests::backends::{backend_sets, url_encode};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// The sort key of a client under `sort`, compared as the contract orders: by UTF-8 bytes,
/// ties broken by id.
fn sort_key(client: &Value, sort: &str) -> (i64, String, String) {
    let text = |field: &str| client[field].as_str().unwrap_or_default().to_owned();
    match sort {
        "created_at" | "-created_at" => (millis(&text("created_at")), String::new(), id_of(client)),
        "last_name" => (0, text("last_name"), id_of(client)),
        "email" => (0, text("email"), id_of(client)),
        other => panic!("no sort {other}"),
    }
}

#[tokio::test]
async fn keyset_pages_never_repeat_or_skip_a_client_while_others_come_and_go() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let t = tag();
        let rows: Vec<Value> = (0..1000)
            .map(|i| json!({ "email": format!("page-{i:04}-{t}@example.com"), "last_name": format!("Row {i}") }))
            .collect();
        let reply = import(app, admin, NDJSON, &ndjson(&rows)).await;
        let report = assert_report(&reply, 1000, 0, 0, &format!("{name}: import 1,000"));
        let originals: BTreeSet<String> = report.iter().map(id_of).collect();
        assert_eq!(originals.len(), 1000, "{name}: 1,000 ids");

        // The default sort, 7 a page. Every third page, a new client is inserted (it sorts
        // after every original) and the first client of the page just read is deleted
        // (everything after it moves up a place, so an offset would skip one).
        let context = format!("{name}: the default sort, limit 7");
        let mut seen: Vec<Value> = vec![];
        let mut deleted: BTreeSet<String> = BTreeSet::new();
        let mut path = "/api/clients?limit=7".to_owned();
        for page_number in 1.. {
            let reply = call(app, Method::GET, &path, admin, &[], Body::Empty).await;
            let page = check_page(&reply, 7, &format!("{context}: page {page_number}"));
            let first_of_page = page.data.first().map(id_of);
            seen.extend(page.data);
            let Some(cursor) = page.next_cursor else {
                break;
            };
            path = format!("/api/clients?limit=7&cursor={}", url_encode(&cursor));
            if page_number % 3 == 0 {
                create_ok(app, admin, &new_client("between-pages")).await;
                let victim = first_of_page.unwrap_or_default();
                if originals.contains(&victim) {
                    let reply = delete_client(app, admin, &victim, Some("*")).await;
                    assert_eq!(reply.status, 204, "{context}: {reply}");
                    deleted.insert(victim);
                }
            }
            assert!(page_number < 1000, "{context}: the pages end");
        }
        assert!(
            deleted.len() >= 40,
            "{context}: clients were deleted meanwhile"
        );
        assert_in_order(&seen, "created_at", &originals, &context);

        // Newest first, 100 a page, a client inserted before each next page (it sorts
        // before every one already read, so an offset would repeat one).
        let context = format!("{name}: sort=-created_at, limit 100");
        let live: BTreeSet<String> = originals.difference(&deleted).cloned().collect();
        let mut seen: Vec<Value> = vec![];
        let mut path = "/api/clients?sort=-created_at&limit=100".to_owned();
        for page_number in 1.. {
            let reply = call(app, Method::GET, &path, admin, &[], Body::Empty).await;
            let page = check_page(&reply, 100, &format!("{context}: page {page_number}"));
            seen.extend(page.data);
            let Some(cursor) = page.next_cursor else {
                break;
            };
            path = format!(
                "/api/clients?sort=-created_at&limit=100&cursor={}",
                url_encode(&cursor)
            );
            create_ok(app, admin, &new_client("before-the-cursor")).await;
            assert!(page_number < 100, "{context}: the pages end");
        }
        assert_in_order(&seen, "-created_at", &live, &context);
    }
}

/// Asserts that `seen` is strictly ordered by `sort` (so nothing came twice) and holds each
/// of `expected` exactly once.
fn assert_in_order(seen: &[Value], sort: &str, expected: &BTreeSet<String>, context: &str) {
    let keys: Vec<(i64, String, String)> = seen.iter().map(|c| sort_key(c, sort)).collect();
    let ordered = if sort.starts_with('-') {
        keys.windows(2).all(|w| w[0] > w[1])
    } else {
        keys.windows(2).all(|w| w[0] < w[1])
    };
    assert!(ordered, "{context}: strictly in order, so never a repeat");
    let seen_expected: Vec<String> = seen
        .iter()
        .map(id_of)
        .filter(|id| expected.contains(id))
        .collect();
    assert_eq!(
        seen_expected.len(),
        expected.len(),
        "{context}: every one exactly once"
    );
    let seen_set: BTreeSet<String> = seen_expected.into_iter().collect();
    assert_eq!(&seen_set, expected, "{context}: all of them");
}

/// The words of `text`: split on anything but letters and digits, lowercased.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What `q` searches in a client: the words of its names, e-mail and company, the e-mail
/// whole and its domain whole.
fn search_terms(client: &Value) -> Vec<String> {
    let mut terms = vec![];
    for field in ["first_name", "last_name", "email", "company"] {
        terms.extend(words(client[field].as_str().unwrap_or_default()));
    }
    let email = client["email"].as_str().unwrap_or_default();
    terms.push(email.to_owned());
    terms.push(email.rsplit('@').next().unwrap_or_default().to_owned());
    terms
}

/// A list query: filters and a sort.
#[derive(Clone, Debug, Default)]
struct Filter {
    status: Option<&'static str>,
    tag: Option<&'static str>,
    created_after: Option<String>,
    created_before: Option<String>,
    q: Option<String>,
}

impl Filter {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![];
        let mut add = |name, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name, value));
            }
        };
        add("status", self.status.map(str::to_owned));
        add("tag", self.tag.map(str::to_owned));
        add("created_after", self.created_after.clone());
        add("created_before", self.created_before.clone());
        add("q", self.q.clone());
        pairs
    }

    fn query(&self, sort: &str) -> String {
        let mut pairs = self.pairs();
        pairs.push(("sort", sort.to_owned()));
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
        query(&borrowed)
    }

    fn matches(&self, client: &Value) -> bool {
        let created = millis(client["created_at"].as_str().unwrap_or_default());
        self.status.is_none_or(|s| client["status"] == s)
            && self
                .tag
                .is_none_or(|t| strings(&client["tags"]).iter().any(|x| x == t))
            && self
                .created_after
                .as_deref()
                .is_none_or(|a| created > millis(a))
            && self
                .created_before
                .as_deref()
                .is_none_or(|b| created < millis(b))
            && self.q.as_deref().is_none_or(|q| {
                let terms = search_terms(client);
                words(q)
                    .iter()
                    .all(|w| terms.iter().any(|term| term.starts_with(w.as_str())))
            })
    }

    /// The ids the model expects, in order.
    fn expected(&self, book: &[Value], sort: &str) -> Vec<String> {
        let mut hits: Vec<&Value> = book.iter().filter(|c| self.matches(c)).collect();
        hits.sort_by_key(|c| sort_key(c, sort));
        if sort.starts_with('-') {
            hits.reverse();
        }
        hits.into_iter().map(id_of).collect()
    }
}

/// 150 clients with varied names (accents, case, particles), e-mails, companies,
/// statuses, tags and notes (notes are never searched).
fn model_rows() -> Vec<Value> {
    let first_names = [
        Some("Ada"),
        Some("Grace"),
        Some("Zoë"),
        Some("Édith"),
        Some("alan"),
        Some("Barbara"),
        None,
        Some("Ken"),
        Some("Margaret"),
        Some("Linus"),
    ];
    let last_names = [
        Some("Lovelace"),
        Some("lovelace"),
        Some("Hopper"),
        Some("Ångström"),
        Some("O'Neil"),
        Some("van Rossum"),
        Some(""),
        None,
        Some("Turing"),
        Some("Zuse"),
        Some("de la Cruz"),
        Some("Ørsted"),
        Some("  "),
    ];
    let companies = [
        Some("Analytical Engines"),
        Some("Bell Labs"),
        Some("US Navy"),
        Some("Acme-Widgets Ltd"),
        None,
        Some("Engines & Co"),
        Some("Lovelace Trust"),
    ];
    let domains = ["example.com", "analytical.org", "navy.mil", "bell-labs.com"];
    let locals = [
        "ada",
        "grace.hopper",
        "turing",
        "data+crm",
        "x",
        "lovelace-fan",
    ];
    let tag_sets: [&[&str]; 6] = [
        &[],
        &["vip"],
        &["eu", "vip"],
        &["b2b"],
        &["beta-2", "eu"],
        &["b2b", "churn-risk", "vip"],
    ];
    (0..150usize)
        .map(|i| {
            let separator = if i % 2 == 0 { "." } else { "" };
            let local = locals[i % locals.len()];
            let mut email = format!("{local}{separator}{i}@{}", domains[i % domains.len()]);
            if i % 7 == 0 {
                email = email.to_uppercase();
            }
            let mut client = json!({
                "email": email,
                "first_name": first_names[i % first_names.len()],
                "last_name": last_names[i % last_names.len()],
                "company": companies[i % companies.len()],
                "status": STATUSES[(i + i / 4) % 4],
                "tags": tag_sets[(i / 2) % tag_sets.len()],
            });
            if i % 5 == 0 {
                client["notes"] = json!("Knows hopper personally; quantum zebra");
            }
            client
        })
        .collect()
}

#[tokio::test]
async fn every_filter_and_sort_matches_a_model_of_the_book() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());

        // The book: 120 imported in four files, 30 created one by one, 6 deleted.
        let rows = model_rows();
        let mut created: Vec<String> = vec![];
        for chunk in rows[..120].chunks(30) {
            let reply = import(app, admin, NDJSON, &ndjson(chunk)).await;
            let report = assert_report(&reply, 30, 0, 0, &format!("{name}: import"));
            created.extend(report.iter().map(id_of));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for row in &rows[120..] {
            created.push(id_of(&create_ok(app, admin, row).await));
        }
        for id in created.iter().step_by(25) {
            let reply = delete_client(app, admin, id, Some("*")).await;
            assert_eq!(reply.status, 204, "{name}: {reply}");
        }
        let live: BTreeSet<String> = created
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 25 != 0)
            .map(|(_, id)| id.clone())
            .collect();
        let model = list_all(app, admin, "", 100).await;
        let listed: BTreeSet<String> = model.iter().map(id_of).collect();
        assert_eq!(listed, live, "{name}: the list holds the live clients");
        assert_eq!(model.len(), 144, "{name}: once each");

        // Timestamps of the book, for the date filters: existing values (exclusive bounds),
        // spelt with other offsets too.
        let mut times: Vec<i64> = model
            .iter()
            .map(|c| millis(c["created_at"].as_str().unwrap_or_default()))
            .collect();
        times.sort_unstable();
        times.dedup();
        assert!(
            times.len() >= 5,
            "{name}: the book spans several instants: {times:?}"
        );
        let at = |fraction: f64| times[((times.len() - 1) as f64 * fraction) as usize];
        let (q1, mid, q3) = (at(0.25), at(0.5), at(0.75));

        let mut filters: Vec<Filter> = vec![Filter::default()];
        for status in STATUSES {
            filters.push(Filter {
                status: Some(status),
                ..Filter::default()
            });
        }
        for tag in ["vip", "eu", "b2b", "churn-risk", "beta-2", "nope"] {
            filters.push(Filter {
                tag: Some(tag),
                ..Filter::default()
            });
        }
        let after = |ms: i64, offset: i64| Filter {
            created_after: Some(rfc3339(ms, offset)),
            ..Filter::default()
        };
        let before = |ms: i64, offset: i64| Filter {
            created_before: Some(rfc3339(ms, offset)),
            ..Filter::default()
        };
        filters.extend([
            after(mid, 0),
            before(mid, 0),
            after(mid, 120),
            before(mid, -330),
            Filter {
                created_after: Some(rfc3339(q1, 60)),
                created_before: Some(rfc3339(q3, -480)),
                ..Filter::default()
            },
            after(millis("2020-01-01T00:00:00Z"), 0),
            Filter {
                created_before: Some("2020-01-01T00:00:00+01:00".into()),
                ..Filter::default()
            },
        ]);
        for q in [
            "ada",
            "LOVE",
            "lovelace ada",
            "example",
            "example.com",
            "bell-labs",
            "ångs",
            "ÅNGSTRÖM",
            "zoë",
            "zoe",
            "hopper",
            "engines",
            "xyz",
            "a",
            "12",
            "personally",
            "data crm",
            "o neil",
            "navy mil",
            "ørsted",
            "turing 4",
            "grace.hopper",
            "quantum",
        ] {
            filters.push(Filter {
                q: Some(q.to_owned()),
                ..Filter::default()
            });
        }
        filters.extend([
            Filter {
                status: Some("active"),
                tag: Some("vip"),
                ..Filter::default()
            },
            Filter {
                status: Some("lead"),
                q: Some("ada".into()),
                ..Filter::default()
            },
            Filter {
                tag: Some("eu"),
                created_after: Some(rfc3339(mid, 0)),
                ..Filter::default()
            },
            Filter {
                tag: Some("vip"),
                q: Some("lov".into()),
                created_before: Some(rfc3339(q3, 0)),
                ..Filter::default()
            },
            Filter {
                status: Some("churned"),
                q: Some("engines".into()),
                created_after: Some(rfc3339(q1, 0)),
                ..Filter::default()
            },
        ]);

        let mut nonempty = 0;
        for (i, filter) in filters.iter().enumerate() {
            for sort in ["created_at", "-created_at", "last_name", "email"] {
                let query_string = filter.query(sort);
                let expected = filter.expected(&model, sort);
                nonempty += usize::from(!expected.is_empty());
                let context = format!("{name}: ?{query_string}");
                let all: Vec<String> = list_all(app, admin, &query_string, 100)
                    .await
                    .iter()
                    .map(id_of)
                    .collect();
                assert_eq!(all, expected, "{context}, limit 100: {filter:?}");
                if i % 6 == 0 {
                    let follow = if i % 12 == 0 {
                        Follow::Cursor
                    } else {
                        Follow::Link
                    };
                    let paged =
                        collect_pages(app, admin, "/api/clients", &query_string, 7, follow).await;
                    let paged: Vec<String> = paged.iter().map(id_of).collect();
                    assert_eq!(paged, expected, "{context}, limit 7: {filter:?}");
                }
            }
        }
        assert!(
            nonempty >= filters.len() * 3,
            "{name}: most queries find someone"
        );

        // The default: sorted by created_at, 25 a page.
        let reply = list(app, admin, "").await;
        let page = check_page(&reply, 25, &format!("{name}: the default page"));
        let first: Vec<String> = page.data.iter().map(id_of).collect();
        let expected = Filter::default().expected(&model, "created_at");
        assert_eq!(
            first,
            expected[..25].to_vec(),
            "{name}: the first 25 by created_at"
        );
        assert!(page.next_cursor.is_some(), "{name}: more than one page");

        // Eight words are allowed.
        let reply = list(app, admin, &query(&[("q", "a b c d e f g h")])).await;
        assert_json(&reply, 200, &format!("{name}: q of 8 words"));
    }
}

/// `cursor` with one character in the middle changed.
fn tampered(cursor: &str) -> String {
    let mut chars: Vec<char> = cursor.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn cursors_are_checksummed_and_tied_to_their_query_and_bad_parameters_are_400() {
    for set in backend_sets().await {
        let name = set.name();
        let book = Book::open(&set).await;
        let (app, admin) = (&book.app, book.admin());
        let rows: Vec<Value> = (0..6)
            .map(|i| json!({ "email": format!("cursor-{i}-{}@example.com", tag()), "tags": ["vip"] }))
            .collect();
        let reply = import(app, admin, NDJSON, &ndjson(&rows)).await;
        assert_report(&reply, 6, 0, 0, name);

        let page = check_page(&list(app, admin, "limit=2").await, 2, name);
        let cursor = page
            .next_cursor
            .unwrap_or_else(|| panic!("{name}: a next page"));
        let with =
            |extra: &str, cursor: &str| format!("{extra}limit=2&cursor={}", url_encode(cursor));
        check_page(
            &list(app, admin, &with("", &cursor)).await,
            2,
            &format!("{name}: the cursor works"),
        );

        let mut bad_cursors = vec![
            (tampered(&cursor), "a changed character"),
            (
                cursor
                    .chars()
                    .take(cursor.chars().count().saturating_sub(4))
                    .collect(),
                "cut short",
            ),
            (format!("{cursor}A"), "lengthened"),
            ("bogus".to_owned(), "made up"),
        ];
        bad_cursors.push((cursor.chars().rev().collect(), "reversed"));
        for (bad, why) in &bad_cursors {
            let reply = list(app, admin, &with("", bad)).await;
            assert_names_parameter(&reply, "cursor", &format!("{name}: a cursor {why}"));
        }
        for other in [
            "status=lead&",
            "sort=email&",
            "sort=-created_at&",
            "q=cursor&",
            "tag=vip&",
            "created_after=2020-01-01T00:00:00Z&",
            "created_before=2999-01-01T00:00:00Z&",
        ] {
            let reply = list(app, admin, &with(other, &cursor)).await;
            assert_names_parameter(
                &reply,
                "cursor",
                &format!("{name}: the cursor with {other}"),
            );
        }
        let page = check_page(&list(app, admin, "tag=vip&limit=2").await, 2, name);
        let tagged = page
            .next_cursor
            .unwrap_or_else(|| panic!("{name}: a next page"));
        let reply = list(app, admin, &with("", &tagged)).await;
        assert_names_parameter(
            &reply,
            "cursor",
            &format!("{name}: a filtered cursor without its filter"),
        );
        check_page(
            &list(app, admin, &with("tag=vip&", &tagged)).await,
            2,
            &format!("{name}: with it"),
        );

        let long_q = "q".repeat(101);
        for (parameters, parameter) in [
            ("limit=0".to_owned(), "limit"),
            ("limit=101".to_owned(), "limit"),
            ("limit=x".to_owned(), "limit"),
            ("limit=-1".to_owned(), "limit"),
            ("limit=2.5".to_owned(), "limit"),
            ("sort=name".to_owned(), "sort"),
            ("sort=-email".to_owned(), "sort"),
            ("status=vip".to_owned(), "status"),
            ("colour=red".to_owned(), "colour"),
            ("created_after=yesterday".to_owned(), "created_after"),
            (
                "created_before=2026-13-01T00:00:00Z".to_owned(),
                "created_before",
            ),
            ("created_after=2026-01-01".to_owned(), "created_after"),
            (query(&[("tag", "bad tag!")]), "tag"),
            (query(&[("q", long_q.as_str())]), "q"),
            (query(&[("q", "a b c d e f g h i")]), "q"),
        ] {
            let reply = list(app, admin, &parameters).await;
            assert_names_parameter(&reply, parameter, &format!("{name}: ?{parameters}"));
        }
    }
}
