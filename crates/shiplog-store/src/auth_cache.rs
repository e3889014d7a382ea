//! Authorisations remembered between requests, so that a request whose
//! token, user and memberships have not changed skips the lookup.
//!
//! Each answer is kept under a generation: a number the backend moves on
//! whenever anything a token is authorised by changes (see the migration
//! `auth_generation`). A cached answer is used only at the generation it
//! was stored with, so a change invalidates every entry at once and no
//! entry outlives a revocation. The backend must read the generation
//! before it looks the token up: a change that commits in between then
//! leaves the answer under a generation already past, never used.

use std::collections::HashMap;
use std::sync::Mutex;

use shiplog_domain::token::TokenHash;

use crate::Access;

/// Entries kept at most. Past it the cache is emptied rather than
/// trimmed: that costs one lookup per token in use, and a flood of
/// requests cannot make it grow or make eviction a cost of its own.
pub const CAPACITY: usize = 10_000;

/// What tokens may do on accounts: per token, its accounts' answers (a
/// token is used on one account or a few, so a lookup compares names
/// instead of building a key), and how many answers are held.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_token: HashMap<TokenHash, Vec<Entry>>,
    len: usize,
}

struct Entry {
    account: String,
    generation: u64,
    access: Access,
}

impl AuthCache {
    pub fn new() -> AuthCache {
        AuthCache::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer stored for the token and account at exactly `generation`.
    pub fn get(&self, token: &TokenHash, account: &str, generation: u64) -> Option<Access> {
        let entries = self.lock();
        entries
            .by_token
            .get(token)?
            .iter()
            .find(|e| e.account == account && e.generation == generation)
            .map(|e| e.access.clone())
    }

    /// Remembers an answer looked up at `generation` (read before the
    /// lookup). Only grants are kept: anyone can present unknown tokens,
    /// and they must not fill the cache or push real ones out.
    pub fn put(&self, token: TokenHash, account: &str, generation: u64, access: &Access) {
        if !matches!(access, Access::Granted { .. }) {
            return;
        }
        let mut entries = self.lock();
        let held = entries
            .by_token
            .get(&token)
            .is_some_and(|list| list.iter().any(|e| e.account == account));
        if entries.len >= CAPACITY && !held {
            *entries = Entries::default();
        }
        let list = entries.by_token.entry(token).or_default();
        match list.iter_mut().find(|e| e.account == account) {
            Some(entry) => {
                entry.generation = generation;
                entry.access = access.clone();
            }
            None => {
                list.push(Entry {
                    account: account.to_owned(),
                    generation,
                    access: access.clone(),
                });
                entries.len += 1;
            }
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.lock().len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Account;
    use shiplog_domain::token::hash_token;
    use shiplog_domain::{Actor, Level};

    fn granted(account: &str) -> Access {
        Access::Granted {
            account: Account {
                id: 1,
                name: account.to_owned(),
            },
            actor: Actor::Token {
                token_id: 1,
                token_label: None,
                user: "jdoe".into(),
            },
            level: Level::Write,
        }
    }

    #[test]
    fn an_answer_is_used_only_at_its_own_generation() {
        let cache = AuthCache::new();
        let token = hash_token("a-token");
        cache.put(token, "jdoe", 7, &granted("jdoe"));
        assert_eq!(cache.get(&token, "jdoe", 7), Some(granted("jdoe")));
        assert_eq!(cache.get(&token, "jdoe", 8), None);
        assert_eq!(cache.get(&token, "jdoe", 6), None);
        assert_eq!(cache.get(&token, "other", 7), None);
        assert_eq!(cache.get(&hash_token("another"), "jdoe", 7), None);
        cache.put(token, "jdoe", 8, &granted("jdoe"));
        assert_eq!(cache.get(&token, "jdoe", 7), None);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn refusals_are_not_kept() {
        let cache = AuthCache::new();
        let token = hash_token("a-token");
        cache.put(token, "jdoe", 1, &Access::Unauthenticated);
        cache.put(token, "other", 1, &Access::Denied);
        assert!(cache.is_empty());
        assert_eq!(cache.get(&token, "jdoe", 1), None);
    }

    #[test]
    fn a_full_cache_is_emptied_before_it_grows() {
        let cache = AuthCache::new();
        for i in 0..CAPACITY {
            cache.put(hash_token(&i.to_string()), "jdoe", 1, &granted("jdoe"));
        }
        assert_eq!(cache.len(), CAPACITY);
        // Replacing an entry held is no growth.
        cache.put(hash_token("0"), "jdoe", 2, &granted("jdoe"));
        assert_eq!(cache.len(), CAPACITY);
        let newcomer = hash_token("newcomer");
        cache.put(newcomer, "jdoe", 1, &granted("jdoe"));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&newcomer, "jdoe", 1), Some(granted("jdoe")));
    }
}
