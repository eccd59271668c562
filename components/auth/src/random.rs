//! Random bytes from the host's CSPRNG (`wasi:random`, through `getrandom`).

use crm_platform::http_kit::ApiError;

/// `N` random bytes, or a 500 when the host cannot provide them.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], ApiError> {
    let mut bytes = [0_u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|error| ApiError::internal("Failed to read random bytes", error))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_draws_differ() {
        let first = random_bytes::<32>().ok();
        let second = random_bytes::<32>().ok();

        assert!(first.is_some(), "the CSPRNG answers");
        assert_ne!(first, second, "32 random bytes never repeat");
    }
}
