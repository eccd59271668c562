//! The current instant, as unix time and as the tables' fixed-width timestamp.

use crm_domain::timestamp::rfc3339_utc_from_unix_millis;
use crm_platform::clock::unix_millis_now;

/// One reading of the clock, used for every timestamp of a request.
#[derive(Debug, Clone)]
pub struct Now {
    pub unix_millis: u64,
    pub timestamp: String,
}

impl Now {
    pub fn read() -> Now {
        let unix_millis = unix_millis_now();
        Now {
            unix_millis,
            timestamp: rfc3339_utc_from_unix_millis(unix_millis),
        }
    }

    pub fn unix_seconds(&self) -> u64 {
        self.unix_millis / 1000
    }
}
