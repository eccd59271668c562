//! Spin's `type = "redis"` key-value store. Increments use INCRBY and
//! compare-and-swap a Lua script, so both stay atomic when several hosts
//! share one Redis.

use crate::key_value::{IncrementError, KeyValueStore, push_within_budget};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// How long one Redis command may take before the store reports an error.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Swap only if the key still holds the expected value. ARGV[1] is "1" when a
/// value is expected (ARGV[2]) and "0" when the key is expected to be absent.
const SWAP_IF: &str = r"
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
";

/// A Redis-backed store; the connection manager reconnects by itself after
/// Redis comes back.
pub struct RedisKeyValue {
    conn: ConnectionManager,
    swap_if: redis::Script,
}

impl RedisKeyValue {
    pub async fn open(url: &str) -> anyhow::Result<RedisKeyValue> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(CONNECT_TIMEOUT)
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(1)
            .set_max_delay(500);
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(RedisKeyValue {
            conn,
            swap_if: redis::Script::new(SWAP_IF),
        })
    }
}

fn err(e: redis::RedisError) -> String {
    format!("redis: {e}")
}

#[async_trait::async_trait]
impl KeyValueStore for RedisKeyValue {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.conn.clone().get(key).await.map_err(err)
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> Result<(), String> {
        self.conn.clone().set(key, value).await.map_err(err)
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        self.conn.clone().del(key).await.map_err(err)
    }

    async fn exists(&self, key: &str) -> Result<bool, String> {
        self.conn.clone().exists(key).await.map_err(err)
    }

    async fn keys(&self) -> Result<Vec<String>, String> {
        let mut conn = self.conn.clone();
        let mut keys: Vec<String> = Vec::new();
        let (mut cursor, mut used): (u64, usize) = (0, 0);
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(err)?;
            for key in batch {
                push_within_budget(&mut keys, &mut used, key)?;
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, IncrementError> {
        // INCRBY: decimal text, as Spin's Redis store keeps counters.
        self.conn
            .clone()
            .incr(key, delta)
            .await
            .map_err(|e| IncrementError::Store(err(e)))
    }

    async fn swap_if(
        &self,
        key: &str,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Result<bool, String> {
        let mut conn = self.conn.clone();
        let mut invocation = self.swap_if.key(key);
        match &expected {
            Some(bytes) => invocation.arg("1").arg(bytes.as_slice()),
            None => invocation.arg("0").arg(""),
        };
        let swapped: i64 = invocation
            .arg(value)
            .invoke_async(&mut conn)
            .await
            .map_err(err)?;
        Ok(swapped == 1)
    }
}
