//! Helpers of the clients suite: an app with its admin signed in, requests with any headers
//! and body, client bodies and the checks every single-client answer gets, list paging that
//! follows `next_cursor` (checking the `Link` header on the way), import reports,
//! timestamps, and the app's database read directly (the outbox, the clients rows).

pub use super::super::auth::support::*;
use crm_tests::TestApp;
use crm_tests::backends::{BackendSet, url_encode};
use reqwest::Method;
use serde_json::{Value, json};

pub const MERGE_PATCH: &str = "application/merge-patch+json";
pub const NDJSON: &str = "application/x-ndjson";

/// The documented fields of a client, sorted.
pub const CLIENT_FIELDS: [&str; 16] = [
    "company",
    "created_at",
    "created_by",
    "email",
    "first_name",
    "id",
    "last_name",
    "notes",
    "phone",
    "properties",
    "source",
    "status",
    "subscribed",
    "tags",
    "updated_at",
    "version",
];

pub const STATUSES: [&str; 4] = ["lead", "active", "inactive", "churned"];

/// The app on one backend set, with its bootstrap admin signed in.
pub struct Book {
    pub app: TestApp,
    pub admin_token: String,
    pub admin_id: String,
}

/// A user of some role, signed in.
pub struct Staff {
    pub id: String,
    pub token: String,
}

impl Staff {
    pub fn auth(&self) -> Auth<'_> {
        Auth::Bearer(&self.token)
    }
}

impl Book {
    pub async fn open(set: &BackendSet) -> Book {
        Book::open_with(set, &[]).await
    }

    /// The book on `set` with these application `variables` set (`--variable`).
    pub async fn open_with(set: &BackendSet, variables: &[(&str, &str)]) -> Book {
        let admin = Account::new("admin");
        let builder = variables
            .iter()
            .fold(auth_app(set, &admin), |b, (name, value)| {
                b.variable(name, value)
            });
        let app = builder.start().await;
        let admin_token = sign_in(&app, &admin).await.access_token;
        let admin_id = user_id(&app, &admin_token).await;
        Book {
            app,
            admin_token,
            admin_id,
        }
    }

    pub fn admin(&self) -> Auth<'_> {
        Auth::Bearer(&self.admin_token)
    }

    /// A new user with `role`, signed in.
    pub async fn staff(&self, role: &str) -> Staff {
        let user = create_user(&self.app, &self.admin_token, role).await;
        let token = sign_in(&self.app, &user.account).await.access_token;
        Staff { id: user.id, token }
    }
}

/// A request body.
pub enum Body<'a> {
    Empty,
    Json(&'a Value),
    /// Raw bytes with their content type.
    Raw(&'a str, Vec<u8>),
}

/// Sends `method path` with `auth`, extra `headers` and `body`, and reads the answer whole.
pub async fn call(
    target: &impl Target,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    headers: &[(&str, &str)],
    body: Body<'_>,
) -> Reply {
    let mut request = crate::auth::requests::authorize(
        target.client().request(method.clone(), target.url(path)),
        auth,
    );
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut label = format!("{method} {path}");
    for (name, value) in headers {
        let shown: String = value.chars().take(40).collect();
        label.push_str(&format!(" [{name}: {shown}]"));
    }
    request = match body {
        Body::Empty => request,
        Body::Json(value) => request.json(value),
        Body::Raw(content_type, bytes) => request.header("content-type", content_type).body(bytes),
    };
    read(label, request).await
}

/// A short random tag, to make e-mails unique to one test.
pub fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

/// A new client's body: a unique e-mail and a name.
pub fn new_client(label: &str) -> Value {
    let email = format!("{label}-{}@example.com", tag());
    // Logs show an e-mail masked, never whole.
    crm_tests::secrets::remember(&email);
    json!({
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
    })
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

pub fn client_path(id: &str) -> String {
    format!("/api/clients/{id}")
}

/// The `id` of a client (or of anything with one).
pub fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

fn if_match(value: Option<&str>) -> Vec<(&str, &str)> {
    value.map(|v| vec![("if-match", v)]).unwrap_or_default()
}

pub async fn create_client(target: &impl Target, auth: Auth<'_>, body: &Value) -> Reply {
    call(
        target,
        Method::POST,
        "/api/clients",
        auth,
        &[],
        Body::Json(body),
    )
    .await
}

/// Creates a client, asserting the 201 with `Location` and `ETag: "1"`; returns it.
pub async fn create_ok(target: &impl Target, auth: Auth<'_>, body: &Value) -> Value {
    let reply = create_client(target, auth, body).await;
    let client = assert_client(&reply, 201, 1, "create a client");
    assert_eq!(
        reply.header("location"),
        client_path(&id_of(&client)),
        "Location names the client: {reply}"
    );
    client
}

pub async fn get_client(target: &impl Target, auth: Auth<'_>, id: &str) -> Reply {
    call(
        target,
        Method::GET,
        &client_path(id),
        auth,
        &[],
        Body::Empty,
    )
    .await
}

pub async fn put_client(
    target: &impl Target,
    auth: Auth<'_>,
    id: &str,
    if_match_value: Option<&str>,
    body: &Value,
) -> Reply {
    let headers = if_match(if_match_value);
    call(
        target,
        Method::PUT,
        &client_path(id),
        auth,
        &headers,
        Body::Json(body),
    )
    .await
}

/// `PATCH` with `content-type: application/merge-patch+json`.
pub async fn patch_client(
    target: &impl Target,
    auth: Auth<'_>,
    id: &str,
    if_match_value: Option<&str>,
    patch: &Value,
) -> Reply {
    let headers = if_match(if_match_value);
    let body = Body::Raw(MERGE_PATCH, patch.to_string().into_bytes());
    call(
        target,
        Method::PATCH,
        &client_path(id),
        auth,
        &headers,
        body,
    )
    .await
}

pub async fn delete_client(
    target: &impl Target,
    auth: Auth<'_>,
    id: &str,
    if_match_value: Option<&str>,
) -> Reply {
    let headers = if_match(if_match_value);
    call(
        target,
        Method::DELETE,
        &client_path(id),
        auth,
        &headers,
        Body::Empty,
    )
    .await
}

/// `DELETE …?purge=true` (GDPR erasure).
pub async fn purge_client(
    target: &impl Target,
    auth: Auth<'_>,
    id: &str,
    if_match_value: Option<&str>,
) -> Reply {
    let headers = if_match(if_match_value);
    let path = format!("{}?purge=true", client_path(id));
    call(target, Method::DELETE, &path, auth, &headers, Body::Empty).await
}

pub async fn import(target: &impl Target, auth: Auth<'_>, content_type: &str, text: &str) -> Reply {
    let body = Body::Raw(content_type, text.as_bytes().to_vec());
    call(target, Method::POST, "/api/clients/import", auth, &[], body).await
}

pub async fn export(target: &impl Target, auth: Auth<'_>) -> Reply {
    call(
        target,
        Method::GET,
        "/api/clients/export",
        auth,
        &[],
        Body::Empty,
    )
    .await
}

/// One JSON document per line.
pub fn ndjson(rows: &[Value]) -> String {
    rows.iter().map(|row| format!("{row}\n")).collect()
}

/// Asserts a single-client answer: `status`, `ETag: "<version>"`, the documented shape;
/// returns the client.
pub fn assert_client(reply: &Reply, status: u16, version: i64, context: &str) -> Value {
    assert_json(reply, status, context);
    assert_eq!(
        reply.header("etag"),
        etag(version),
        "{context}: ETag: {reply}"
    );
    assert_client_shape(&reply.body, context);
    assert_eq!(reply.body["version"], version, "{context}: {reply}");
    reply.body.clone()
}

/// Asserts the documented shape of a client: exactly its fields, a UUIDv7 id, RFC 3339
/// timestamps, a known status, sorted unique tag slugs, flat properties.
pub fn assert_client_shape(client: &Value, context: &str) {
    let mut fields: Vec<&str> = client
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    fields.sort_unstable();
    assert_eq!(
        fields, CLIENT_FIELDS,
        "{context}: the client's fields: {client}"
    );
    let id = client["id"].as_str().unwrap_or_default();
    let parsed = uuid::Uuid::parse_str(id)
        .unwrap_or_else(|e| panic!("{context}: the id is a UUID ({e}): {client}"));
    assert_eq!(parsed.get_version_num(), 7, "{context}: a UUIDv7: {client}");
    assert_eq!(
        parsed.hyphenated().to_string(),
        id,
        "{context}: lowercase, hyphenated"
    );
    let created = millis(client["created_at"].as_str().unwrap_or_default());
    let updated = millis(client["updated_at"].as_str().unwrap_or_default());
    assert!(
        updated >= created,
        "{context}: updated_at ≥ created_at: {client}"
    );
    let status = client["status"].as_str().unwrap_or_default();
    assert!(STATUSES.contains(&status), "{context}: status: {client}");
    let tags = strings(&client["tags"]);
    let mut sorted = tags.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(tags, sorted, "{context}: tags are a sorted set: {client}");
    assert!(client["tags"].is_array(), "{context}: {client}");
    let properties = client["properties"].as_object();
    let properties = properties.unwrap_or_else(|| panic!("{context}: properties: {client}"));
    assert!(
        properties
            .values()
            .all(|v| v.is_string() || v.is_number() || v.is_boolean()),
        "{context}: flat properties: {client}"
    );
    assert!(client["subscribed"].is_boolean(), "{context}: {client}");
    assert!(client["email"].is_string(), "{context}: {client}");
    assert!(client["created_by"].is_string(), "{context}: {client}");
    assert!(
        client["version"].as_i64().unwrap_or(0) >= 1,
        "{context}: {client}"
    );
}

/// The strings of a JSON array.
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The `field`s of a problem's `errors`.
pub fn error_fields(reply: &Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `path` (a JSON path from `errors[].field`) is `field` or inside it
/// (`tags[1]`, `properties.plan`).
pub fn names_field(path: &str, field: &str) -> bool {
    path == field
        || path
            .strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(['.', '[']))
        || path
            .strip_prefix("$.")
            .is_some_and(|p| names_field(p, field))
}

/// Asserts a problem with `status` whose `errors[]` names `field` (or a path inside it).
pub fn assert_field_error(reply: &Reply, status: u16, field: &str, context: &str) {
    assert_problem(reply, status, context);
    let fields = error_fields(reply);
    assert!(
        fields.iter().any(|f| names_field(f, field)),
        "{context}: errors[].field names {field:?} (got {fields:?}): {reply}"
    );
}

/// Asserts a 400 problem naming the query parameter `name`, in `errors[].field` or in
/// its `detail`.
pub fn assert_names_parameter(reply: &Reply, name: &str, context: &str) {
    assert_problem(reply, 400, context);
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    assert!(
        error_fields(reply).iter().any(|f| f == name) || detail.contains(name),
        "{context}: the problem names the parameter {name:?}: {reply}"
    );
}

/// A query string from `(name, value)` pairs, values percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", url_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /api/clients?<query>`.
pub async fn list(target: &impl Target, auth: Auth<'_>, query_string: &str) -> Reply {
    let path = if query_string.is_empty() {
        "/api/clients".to_owned()
    } else {
        format!("/api/clients?{query_string}")
    };
    call(target, Method::GET, &path, auth, &[], Body::Empty).await
}

/// One checked page of a list (clients or history entries).
pub struct Page {
    pub data: Vec<Value>,
    pub next_cursor: Option<String>,
    /// The target of the `Link: <…>; rel="next"` header, as a path with its query.
    pub next_link: Option<String>,
}

/// The target of `rel="next"` in a `Link` header, as a path and query.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        if !is_next {
            return None;
        }
        let path = match target.find("://") {
            Some(i) => target[i + 3..]
                .find('/')
                .map_or("/".to_owned(), |j| target[i + 3 + j..].to_owned()),
            None => target.to_owned(),
        };
        Some(path)
    })
}

/// A query parameter of a path with a query, decoded.
pub fn param_of(path: &str, name: &str) -> Option<String> {
    let (_, query) = path.split_once('?')?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Asserts a list page: 200 JSON `{data: [...], next_cursor}` with at most `limit` items,
/// a `Link: <…>; rel="next"` exactly when `next_cursor` is set, its cursor that one, and a
/// full page whenever there is a next one.
pub fn check_page(reply: &Reply, limit: usize, context: &str) -> Page {
    assert_json(reply, 200, context);
    let data = reply.body["data"].as_array().cloned();
    let data = data.unwrap_or_else(|| panic!("{context}: a `data` array: {reply}"));
    assert!(
        reply.body.get("next_cursor").is_some(),
        "{context}: next_cursor is always there (null on the last page): {reply}"
    );
    let next_cursor = reply.body["next_cursor"].as_str().map(str::to_owned);
    assert!(
        next_cursor.is_some() || reply.body["next_cursor"].is_null(),
        "{context}: next_cursor is a string or null: {reply}"
    );
    let link = next_link(reply.header("link"));
    match (&next_cursor, &link) {
        (None, None) => {}
        (Some(cursor), Some(link)) => {
            assert_eq!(
                param_of(link, "cursor").as_deref(),
                Some(cursor.as_str()),
                "{context}: the Link's cursor is next_cursor: {reply}"
            );
        }
        _ => panic!(
            "{context}: Link rel=\"next\" ({:?}) exactly when next_cursor: {reply}",
            reply.header("link")
        ),
    }
    assert!(data.len() <= limit, "{context}: ≤ {limit} items: {reply}");
    if next_cursor.is_some() {
        assert_eq!(
            data.len(),
            limit,
            "{context}: a full page before the last: {reply}"
        );
    }
    Page {
        data,
        next_cursor,
        next_link: link,
    }
}

/// How to reach the next page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Add `cursor=<next_cursor>` to the first page's query.
    Cursor,
    /// Request the `Link` header's target as given.
    Link,
}

/// Every item of `GET <path>?<query>&limit=<limit>`, page after page; each page checked.
pub async fn collect_pages(
    target: &impl Target,
    auth: Auth<'_>,
    path: &str,
    query_string: &str,
    limit: usize,
    follow: Follow,
) -> Vec<Value> {
    let joiner = if query_string.is_empty() { "" } else { "&" };
    let first = format!("{path}?{query_string}{joiner}limit={limit}");
    let mut next = first.clone();
    let mut items = vec![];
    for page_number in 1.. {
        let reply = call(target, Method::GET, &next, auth, &[], Body::Empty).await;
        let context = format!("GET {first}, page {page_number}");
        let page = check_page(&reply, limit, &context);
        items.extend(page.data);
        next = match (follow, page.next_cursor, page.next_link) {
            (_, None, _) => break,
            (Follow::Cursor, Some(cursor), _) => format!("{first}&cursor={}", url_encode(&cursor)),
            (Follow::Link, Some(_), Some(link)) => link,
            (Follow::Link, Some(_), None) => unreachable!("check_page pairs them"),
        };
        assert!(page_number < 10_000, "{context}: the pages end");
    }
    items
}

/// Every client of `GET /api/clients?<query>`, `limit` at a time.
pub async fn list_all(
    target: &impl Target,
    auth: Auth<'_>,
    query_string: &str,
    limit: usize,
) -> Vec<Value> {
    collect_pages(
        target,
        auth,
        "/api/clients",
        query_string,
        limit,
        Follow::Cursor,
    )
    .await
}

/// Every entry of a client's history, oldest first.
pub async fn history_of(target: &impl Target, auth: Auth<'_>, id: &str) -> Vec<Value> {
    let path = format!("{}/history", client_path(id));
    collect_pages(target, auth, &path, "", 100, Follow::Cursor).await
}

/// Asserts an import report `{created, updated, rejected, rows}` with these counts, each
/// row's status agreeing with them; returns the rows.
pub fn assert_report(
    reply: &Reply,
    created: usize,
    updated: usize,
    rejected: usize,
    context: &str,
) -> Vec<Value> {
    assert_json(reply, 200, context);
    let body = &reply.body;
    assert_eq!(body["created"], created, "{context}: created: {reply}");
    assert_eq!(body["updated"], updated, "{context}: updated: {reply}");
    assert_eq!(body["rejected"], rejected, "{context}: rejected: {reply}");
    let rows = body["rows"].as_array().cloned();
    let rows = rows.unwrap_or_else(|| panic!("{context}: a rows array: {reply}"));
    let count = |status: &str| rows.iter().filter(|r| r["status"] == status).count();
    assert_eq!(
        (count("created"), count("updated"), count("rejected")),
        (created, updated, rejected),
        "{context}: the rows agree with the counts: {reply}"
    );
    assert_eq!(
        rows.len(),
        created + updated + rejected,
        "{context}: {reply}"
    );
    rows
}

/// Milliseconds since the epoch of an RFC 3339 timestamp (`2026-11-26T07:00:00.000Z`,
/// `…+02:00`); panics on anything else.
pub fn millis(text: &str) -> i64 {
    parse_rfc3339(text).unwrap_or_else(|| panic!("not an RFC 3339 timestamp: {text:?}"))
}

fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
        return None;
    }
    if !matches!(bytes[10], b'T' | b't') || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut fraction_ms = 0;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &after_dot[..digits.min(3)]);
        fraction_ms = padded.parse().ok()?;
        rest = &after_dot[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            sign * (hours * 60 + minutes)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let local = ((days * 24 + hour) * 60 + minute) * 60 + second;
    Some((local - offset_minutes * 60) * 1000 + fraction_ms)
}

/// `millis` as RFC 3339 with a UTC offset of `offset_minutes` (`Z` for 0).
pub fn rfc3339(millis: i64, offset_minutes: i64) -> String {
    let local = millis + offset_minutes * 60_000;
    let days = local.div_euclid(86_400_000);
    let in_day = local.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (second, ms) = (in_day / 1000 % 60, in_day % 1000);
    let offset = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let abs = offset_minutes.abs();
        format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
    };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{ms:03}{offset}")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `value` as an SQL string literal (tests only: the values are ids and e-mails).
pub fn sql_text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The rows of `sql`, read straight from the app's database; every selected column must be
/// text (or NULL): cast the others with `CAST(… AS TEXT)`.
pub async fn db_rows(set: &BackendSet, app: &TestApp, sql: &str) -> Vec<Vec<Option<String>>> {
    match set {
        BackendSet::Sqlite => {
            let file = app.dir.path().join(".spin").join("sqlite_db.db");
            let sql = sql.to_owned();
            off_the_runtime(move || {
                let connection =
                    rusqlite::Connection::open(&file).expect("the app's SQLite database");
                connection
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .expect("busy timeout");
                let mut statement = connection
                    .prepare(&sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let columns = statement.column_count();
                let rows = statement
                    .query_map([], |row| {
                        (0..columns)
                            .map(|i| row.get::<_, Option<String>>(i))
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.map(|row| row.unwrap_or_else(|e| panic!("{sql}: {e}")))
                    .collect()
            })
            .await
        }
        BackendSet::PostgresRedis { db, .. } => {
            let rows = db
                .client()
                .await
                .query(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            rows.iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| row.get::<_, Option<String>>(i))
                        .collect()
                })
                .collect()
        }
    }
}

/// Runs `work` (a direct SQLite access to an app's file) on the blocking pool. On the test's
/// runtime thread it would block the in-process app too (a `#[tokio::test]` runtime has one
/// thread): a guest holding the write lock between two statements of its transaction could
/// not reach its `COMMIT`, and a write here would wait out its busy timeout ("database is
/// locked").
pub async fn off_the_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}

/// How many rows of `table` satisfy `condition` (an SQL expression).
pub async fn count_rows(set: &BackendSet, app: &TestApp, table: &str, condition: &str) -> usize {
    let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE {condition}");
    let rows = db_rows(set, app, &sql).await;
    let count = rows[0][0].as_deref().unwrap_or_default();
    count
        .parse()
        .unwrap_or_else(|e| panic!("{sql}: {count:?}: {e}"))
}

/// One `loops_outbox` row.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub id: String,
    pub client_id: String,
    pub operation: String,
    pub payload: Value,
    pub status: String,
    pub idempotency_key: String,
    /// The payload as stored (text).
    pub payload_text: String,
}

/// Every `loops_outbox` row.
pub async fn outbox(set: &BackendSet, app: &TestApp) -> Vec<OutboxRow> {
    let sql = "SELECT id, client_id, operation, CAST(payload AS TEXT), status, idempotency_key \
               FROM loops_outbox";
    db_rows(set, app, sql)
        .await
        .into_iter()
        .map(|row| {
            let text = |i: usize| row[i].clone().unwrap_or_default();
            OutboxRow {
                id: text(0),
                client_id: text(1),
                operation: text(2),
                payload: serde_json::from_str(&text(3)).unwrap_or(Value::Null),
                status: text(4),
                idempotency_key: text(5),
                payload_text: text(3),
            }
        })
        .collect()
}

/// The rows of `after` whose id is not in `before`.
pub fn new_rows(before: &[OutboxRow], after: &[OutboxRow]) -> Vec<OutboxRow> {
    after
        .iter()
        .filter(|row| before.iter().all(|old| old.id != row.id))
        .cloned()
        .collect()
}

/// Asserts a problem with `status` carrying `ETag: "<version>"` (a 412 names the current tag).
pub fn assert_precondition_failed(reply: &Reply, version: i64, context: &str) {
    assert_problem(reply, 412, context);
    assert_eq!(
        reply.header("etag"),
        etag(version),
        "{context}: the 412 carries the current ETag: {reply}"
    );
}

/// Asserts 401 problem+json with a `Bearer` challenge.
pub fn assert_unauthenticated(reply: &Reply, context: &str) {
    assert_problem(reply, 401, context);
    assert!(
        reply.header("www-authenticate").starts_with("Bearer "),
        "{context}: a Bearer challenge: {reply}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_millis_and_offsets() {
        let text = "2026-11-26T07:00:00.123Z";
        let at = millis(text);
        assert_eq!(rfc3339(at, 0), text);
        assert_eq!(rfc3339(at, 120), "2026-11-26T09:00:00.123+02:00");
        assert_eq!(rfc3339(at, -450), "2026-11-25T23:30:00.123-07:30");
        assert_eq!(millis("2026-11-26T09:00:00.123+02:00"), at);
        assert_eq!(millis("2026-11-25T23:30:00.123-07:30"), at);
        assert_eq!(millis("1970-01-01T00:00:00Z"), 0);
        assert_eq!(millis("2000-03-01T00:00:00.5Z"), 951_868_800_500);
        assert_eq!(
            rfc3339(951_868_800_500 - 86_400_000, 0),
            "2000-02-29T00:00:00.500Z"
        );
        assert!(parse_rfc3339("2026-13-01T00:00:00Z").is_none());
        assert!(parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn field_paths_name_their_field() {
        assert!(names_field("tags", "tags"));
        assert!(names_field("tags[3]", "tags"));
        assert!(names_field("properties.plan", "properties"));
        assert!(names_field("$.email", "email"));
        assert!(!names_field("tagsx", "tags"));
        assert!(!names_field("email", "tags"));
    }

    #[test]
    fn the_next_link_is_read_as_a_path() {
        let header = r#"<http://127.0.0.1:1/api/clients?limit=7&cursor=ab%2Bc>; rel="next""#;
        let link = next_link(header).expect("a next link");
        assert_eq!(link, "/api/clients?limit=7&cursor=ab%2Bc");
        assert_eq!(param_of(&link, "cursor").as_deref(), Some("ab+c"));
        assert_eq!(
            next_link(r#"</api/clients?cursor=x>; rel="next""#).as_deref(),
            Some("/api/clients?cursor=x")
        );
        assert!(next_link(r#"</a>; rel="prev""#).is_none());
        assert!(next_link("").is_none());
    }
}
