//! Application variables: `providers` resolve them at start-up in Spin's order,
//! `template` renders `{{ name }}`; here the component grants and the
//! `fermyon:spin/variables@2.0.0` and `wasi:config/store` interfaces.

mod dotenv;
mod providers;
pub mod template;

pub use providers::{VariableSources, Variables};

use crate::app::manifest::validate_variable_name;
use crate::bindings::fermyon::spin::variables as spin_vars;
use crate::bindings::wasi::config::store as wasi_config;
use crate::state::RequestState;

impl RequestState {
    fn component_variable(&self, name: &str) -> Result<String, spin_vars::Error> {
        if validate_variable_name(name).is_err() {
            return Err(spin_vars::Error::InvalidName(name.to_owned()));
        }
        let Some(template) = self.component.variables.get(name) else {
            return Err(spin_vars::Error::Undefined(format!(
                "no variable `{name}` is granted to component `{}`",
                self.component.id
            )));
        };
        self.app
            .variables
            .render(template)
            .map_err(|e| spin_vars::Error::Undefined(format!("{e:#}")))
    }
}

impl spin_vars::Host for RequestState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, spin_vars::Error>> {
        Ok(self.component_variable(&name))
    }
}

impl wasi_config::Host for RequestState {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wasi_config::Error>> {
        Ok(match self.component_variable(&key) {
            Ok(value) => Ok(Some(value)),
            Err(spin_vars::Error::Undefined(_) | spin_vars::Error::InvalidName(_)) => Ok(None),
            Err(other) => Err(wasi_config::Error::Upstream(format!("{other:?}"))),
        })
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, wasi_config::Error>> {
        let names: Vec<String> = self.component.variables.keys().cloned().collect();
        let mut all = Vec::with_capacity(names.len());
        for name in names {
            match self.component_variable(&name) {
                Ok(value) => all.push((name, value)),
                Err(e) => return Ok(Err(wasi_config::Error::Upstream(format!("{e:?}")))),
            }
        }
        Ok(Ok(all))
    }
}
