//! The policy layers ([`Layer`]) and `Layers<T>`: one value per policy layer (an outcome, a result, a count), indexed by [`Layer`]. The one
//! shape in which per-layer results are kept and written out (camelCase layer names as JSON keys).

use serde::Serialize;

/// The kinds of policy that take part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "camelCase")]
pub enum Layer {
    /// Identity-based policies.
    Identity,
    /// The resource-based policy (bucket policy, key policy).
    ResourcePolicy,
    /// Service control policies.
    Scp,
    /// Resource control policies.
    Rcp,
    /// The permissions boundary.
    PermissionBoundary,
    /// The session policy.
    SessionPolicy,
    /// The VPC endpoint policy.
    VpcEndpointPolicy,
}

impl Layer {
    /// Every layer, in the order the output lists them.
    pub const ALL: [Layer; 7] = [
        Layer::Identity,
        Layer::ResourcePolicy,
        Layer::Scp,
        Layer::Rcp,
        Layer::PermissionBoundary,
        Layer::SessionPolicy,
        Layer::VpcEndpointPolicy,
    ];

    /// The camelCase name used in JSON output.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// One `T` for each of the seven layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layers<T> {
    /// Identity-based policies.
    pub identity: T,
    /// The resource policy.
    pub resource_policy: T,
    /// SCPs.
    pub scp: T,
    /// RCPs.
    pub rcp: T,
    /// The permissions boundary.
    pub permission_boundary: T,
    /// The session policy.
    pub session_policy: T,
    /// The VPC endpoint policy.
    pub vpc_endpoint_policy: T,
}

impl<T> Layers<T> {
    /// The value of each layer from `f`, called in `Layer::ALL` order.
    pub fn from_fn(mut f: impl FnMut(Layer) -> T) -> Self {
        Self {
            identity: f(Layer::Identity),
            resource_policy: f(Layer::ResourcePolicy),
            scp: f(Layer::Scp),
            rcp: f(Layer::Rcp),
            permission_boundary: f(Layer::PermissionBoundary),
            session_policy: f(Layer::SessionPolicy),
            vpc_endpoint_policy: f(Layer::VpcEndpointPolicy),
        }
    }

    /// One layer's value.
    pub fn get(&self, layer: Layer) -> &T {
        match layer {
            Layer::Identity => &self.identity,
            Layer::ResourcePolicy => &self.resource_policy,
            Layer::Scp => &self.scp,
            Layer::Rcp => &self.rcp,
            Layer::PermissionBoundary => &self.permission_boundary,
            Layer::SessionPolicy => &self.session_policy,
            Layer::VpcEndpointPolicy => &self.vpc_endpoint_policy,
        }
    }

    /// Each layer's value through `f`.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> Layers<U> {
        Layers::from_fn(|layer| f(self.get(layer)))
    }

    /// The values, in `Layer::ALL` order.
    pub fn iter(&self) -> std::array::IntoIter<&T, 7> {
        [
            &self.identity,
            &self.resource_policy,
            &self.scp,
            &self.rcp,
            &self.permission_boundary,
            &self.session_policy,
            &self.vpc_endpoint_policy,
        ]
        .into_iter()
    }

    /// The layers with their values, in `Layer::ALL` order.
    pub fn entries(&self) -> impl Iterator<Item = (Layer, &T)> {
        Layer::ALL.into_iter().map(|layer| (layer, self.get(layer)))
    }
}

impl<'a, T> IntoIterator for &'a Layers<T> {
    type Item = &'a T;
    type IntoIter = std::array::IntoIter<&'a T, 7>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_mapped_and_written_by_layer() {
        let names = Layers::from_fn(Layer::name);
        for (layer, name) in names.entries() {
            assert_eq!(*name, layer.name());
            // The derived name is serde's (the simulate case format's `permissionBoundary`).
            assert_eq!(serde_json::json!(layer), serde_json::json!(name));
        }
        let lengths = names.map(|n| n.len());
        assert_eq!(
            *lengths.get(Layer::VpcEndpointPolicy),
            "vpcEndpointPolicy".len()
        );
        assert_eq!(names.iter().count(), 7);
        let json = serde_json::to_value(names).ok();
        assert_eq!(
            json.as_ref().and_then(|j| j.get("permissionBoundary")),
            Some(&serde_json::json!("permissionBoundary"))
        );
    }
}
