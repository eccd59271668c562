//! `GET /metrics`: the application's counters (kept in store `default` by every component,
//! crm_platform::metrics and loops-sync) in the Prometheus text format, for a scraper that
//! presents the secret variable `metrics_token` as bearer.

use crm_domain::RequestId;
use crm_domain::metrics::{self, Keys, LoopsCounters};
use crm_platform::http_kit::{ApiError, REQUEST_ID_HEADER};
use crm_platform::kv::{kv_error_name, stored_number};
use spin_sdk::http::{Request, Response};
use spin_sdk::wit::wasi::keyvalue::store;

/// Spin variable (secret): the scraper's bearer token. Empty: every scrape is refused.
const TOKEN_VARIABLE: &str = "metrics_token";
/// The Prometheus text format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn scrape(request: &Request, request_id: &RequestId) -> Result<Response, ApiError> {
    let expected = spin_sdk::variables::get(TOKEN_VARIABLE).unwrap_or_default();
    if expected.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "No scrape token is configured (the secret variable metrics_token).",
        ));
    }
    let presented = request
        .header("authorization")
        .and_then(|value| value.as_str())
        .and_then(crm_domain::auth::bearer_token);
    match presented {
        Some(token) if crm_domain::auth::presents_secret(expected.trim(), token) => {}
        Some(_) => return Err(ApiError::invalid_token("The scrape token is not valid.")),
        None => {
            return Err(ApiError::unauthorized(
                "Present the scrape token as `Authorization: Bearer <metrics_token>`.",
            ));
        }
    }
    let Some(source) = crm_platform::metrics::namespace() else {
        return Err(ApiError::service_unavailable(
            "Metrics are off: the variable metrics_namespace is empty.",
        ));
    };
    let bucket = store::open("default").map_err(|e| {
        ApiError::dependency_unavailable("The key-value store is unavailable.", kv_error_name(&e))
    })?;
    let keys = Keys { source };
    let values = read_series(&bucket, &keys)?;
    let loops = loops_counters(&bucket, source)?;
    let text = metrics::render(&values, &loops, &crm_domain::loops::DURATION_BUCKETS_MS);
    Ok(Response::builder()
        .status(200)
        .header("content-type", CONTENT_TYPE)
        .header("cache-control", "no-store")
        .header(REQUEST_ID_HEADER, request_id.as_str())
        .body(text)
        .build())
}

/// The numbers at `keys`, in order (0 where absent). One `get` per key: `wasi:keyvalue`
/// `get-many` cannot be used, Spin's Redis store answers it with the `KEYS` command
/// (spin v3.6.3 and v4.0.2, crates/key-value-redis/src/store.rs), which fails.
fn read_all(bucket: &store::Bucket, keys: &[String]) -> Result<Vec<u64>, ApiError> {
    keys.iter()
        .map(|key| read(bucket, key).map(|v| v.unwrap_or(0)))
        .collect()
}

fn read(bucket: &store::Bucket, key: &str) -> Result<Option<u64>, ApiError> {
    bucket
        .get(key)
        .map(|value| value.map(|bytes| stored_number(&bytes)))
        .map_err(|e| {
            ApiError::dependency_unavailable(
                "The key-value store is unavailable.",
                kv_error_name(&e),
            )
        })
}

/// [`Keys::all`]'s numbers. A request series whose sum key is absent was never counted:
/// its buckets are not read, so a scrape reads little more than the series in use.
fn read_series(bucket: &store::Bucket, keys: &Keys<'_>) -> Result<Vec<u64>, ApiError> {
    let all = keys.all();
    let per_series = metrics::LATENCY_BUCKETS_MS.len() + 2;
    let series = metrics::ROUTES.len() * metrics::STATUS_CLASSES.len();
    let mut values = Vec::with_capacity(all.len());
    for chunk in all[..series * per_series].chunks(per_series) {
        let (buckets, sum) = chunk.split_at(per_series - 1);
        match read(bucket, &sum[0])? {
            None => values.extend(std::iter::repeat_n(0, per_series)),
            Some(sum) => {
                values.extend(read_all(bucket, buckets)?);
                values.push(sum);
            }
        }
    }
    values.extend(read_all(bucket, &all[series * per_series..])?);
    Ok(values)
}

fn loops_counters(bucket: &store::Bucket, source: &str) -> Result<LoopsCounters, ApiError> {
    use crm_domain::loops::{DURATION_BUCKETS_MS, metric_key};
    let mut names: Vec<String> = ["sent", "failed", "dead_lettered", "duration_ms_count"]
        .into_iter()
        .chain(["duration_ms_sum"])
        .map(|name| metric_key(source, name))
        .collect();
    names.extend(
        DURATION_BUCKETS_MS
            .iter()
            .map(|bound| metric_key(source, &format!("duration_ms_bucket:{bound}"))),
    );
    let values = read_all(bucket, &names)?;
    Ok(LoopsCounters {
        sent: values[0],
        failed: values[1],
        dead_lettered: values[2],
        duration_count: values[3],
        duration_sum_ms: values[4],
        duration_buckets: values[5..].to_vec(),
    })
}
