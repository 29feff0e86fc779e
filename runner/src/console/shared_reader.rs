//! One reader connection to the store, shared by the console's pages and its log
//! followers, opened on first use (WAL lets it read while the dispatcher writes).

use std::path::PathBuf;
use std::sync::Mutex;

use crate::store::{Store, StoreError};

pub struct SharedReader {
    state: PathBuf,
    store: Mutex<Option<Store>>,
}

impl SharedReader {
    pub fn new(state: PathBuf) -> SharedReader {
        SharedReader {
            state,
            store: Mutex::new(None),
        }
    }

    /// Runs `read` on the connection (a blocking call: from a blocking thread).
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if store.is_none() {
            *store = Some(Store::open_reader(&self.state)?);
        }
        match store.as_ref() {
            Some(store) => read(store),
            None => Err(StoreError::Closed),
        }
    }
}
