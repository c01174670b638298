//! The layer registry that `#[amplifiable]` generates: names, kinds and typed ids of the
//! candidate layers, and access to each layer's parameters.

use std::fmt;
use std::marker::PhantomData;

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;

/// A network (or block) whose candidate layers amp can tap, measure and amplify.
///
/// Implemented by `#[amplifiable]`; candidate layers are numbered in forward order, nested
/// blocks contributing their own layers in place.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an #[amplifiable] block",
    label = "`#[amp(block)]` needs a type declared with #[amplifiable]",
    note = "mark plain layers without `#[amp(block)]`, or declare the block type with #[amplifiable]"
)]
pub trait Amplifiable {
    /// Number of candidate layers, those of nested blocks included.
    const LAYER_COUNT: usize;

    /// The candidate layers in forward order, with hierarchical names (`layer1.0.conv1`).
    fn layers() -> Vec<LayerInfo>;

    /// Just the names of [`Amplifiable::layers`].
    fn layer_names() -> Vec<String> {
        Self::layers().into_iter().map(|l| l.name).collect()
    }
}

/// The name and kind of one candidate layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// Dotted path from the model root, e.g. `layer1.0.conv1`.
    pub name: String,
    /// The layer's type name (`Conv2D`, `Linear`, ...), used to group candidates by type.
    pub kind: String,
    /// Dotted path of the Rust fields from the model root, e.g. `layer1.b0.conv1`: how saved
    /// checkpoints name the layer's tensors (`layer1.b0.conv1.weight`). It differs from
    /// `name` where `#[amp(name = "...")]` renamed a field on the way.
    pub field_path: String,
}

impl LayerInfo {
    /// A layer called `name` of type `kind`, held in a field of the same name.
    pub fn new(name: impl Into<String>, kind: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            field_path: name.clone(),
            name,
            kind: kind.into(),
        }
    }

    /// The same layer, held in the Rust field `field` (where `#[amp(name)]` renamed it).
    pub fn in_field(self, field: impl Into<String>) -> Self {
        Self {
            field_path: field.into(),
            ..self
        }
    }

    /// Whether the model tensor named `tensor` (dfdx's walk and checkpoints name them by
    /// field path: `layer1.b0.conv1.weight`, or deeper for a tuple) is one of this layer's.
    pub fn owns(&self, tensor: &str) -> bool {
        tensor
            .strip_prefix(self.field_path.as_str())
            .is_some_and(|rest| rest.starts_with('.'))
    }

    /// The same layer as seen from a parent that holds its block in field `field`, registered
    /// as `prefix`.
    pub fn nested_in(self, prefix: &str, field: &str) -> Self {
        Self {
            name: format!("{prefix}.{}", self.name),
            kind: self.kind,
            field_path: format!("{field}.{}", self.field_path),
        }
    }
}

/// Something that wants to see every candidate layer's module, with its run-wide index.
pub trait LayerVisitor<E: Dtype, D: Device<E>> {
    /// Called once per candidate layer, in forward order.
    fn visit<M: TensorCollection<E, D>>(&mut self, index: usize, layer: &M);
}

/// Access to the parameters of each candidate layer; implemented by `#[amplifiable]`.
pub trait LayerParams<E: Dtype, D: Device<E>>: Amplifiable {
    /// Shows each candidate layer to `visitor`, numbering them from `offset`.
    fn visit_layers<V: LayerVisitor<E, D>>(&self, offset: usize, visitor: &mut V);
}

/// The typed id of a candidate layer of model `M`: an index that is known to be in range.
pub struct LayerId<M: ?Sized> {
    index: usize,
    model: PhantomData<fn() -> M>,
}

impl<M: ?Sized> LayerId<M> {
    /// For generated code: the id of the layer at `index`, which the macro has counted.
    #[doc(hidden)]
    pub const fn new_unchecked(index: usize) -> Self {
        Self {
            index,
            model: PhantomData,
        }
    }

    /// Position of the layer in forward order.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<M: Amplifiable + ?Sized> LayerId<M> {
    /// Looks a layer up by its dotted name; the error lists every valid name.
    pub fn from_name(name: &str) -> Result<Self, UnknownLayer> {
        let names = M::layer_names();
        match names.iter().position(|n| n == name) {
            Some(index) => Ok(Self::new_unchecked(index)),
            None => Err(UnknownLayer::new(name, names)),
        }
    }

    /// The layer's dotted name.
    pub fn name(&self) -> String {
        M::layer_names().swap_remove(self.index)
    }
}

impl<M: ?Sized> Clone for LayerId<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M: ?Sized> Copy for LayerId<M> {}
impl<M: ?Sized> PartialEq for LayerId<M> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}
impl<M: ?Sized> Eq for LayerId<M> {}
impl<M: ?Sized> fmt::Debug for LayerId<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LayerId({})", self.index)
    }
}

/// The typed id of a nested block `B` (a field marked `#[amp(block)]`) inside model `M`:
/// turns the ids of the block's own layers into ids of `M`'s, so nested candidates are typed
/// too: `Net::STAGE2.layer(Stage::CONV2)`, or through two levels
/// `Net::LAYER1.block(Stage::B0).layer(BasicBlock::CONV1)`. Usable in `const` items.
pub struct BlockId<M: ?Sized, B: ?Sized> {
    offset: usize,
    types: PhantomData<ModelAndBlock<M, B>>,
}

/// `fn() -> T` marks the types without owning a value of them (so `BlockId` is `Send`,
/// `Sync` and `Copy` whatever they are).
type ModelAndBlock<M, B> = (fn() -> M, fn() -> B);

impl<M: ?Sized, B: ?Sized> BlockId<M, B> {
    /// For generated code: the block whose first layer is `M`'s layer `offset`.
    #[doc(hidden)]
    pub const fn new_unchecked(offset: usize) -> Self {
        Self {
            offset,
            types: PhantomData,
        }
    }

    /// The id in `M` of the block's layer `layer`.
    pub const fn layer(self, layer: LayerId<B>) -> LayerId<M> {
        LayerId::new_unchecked(self.offset + layer.index)
    }

    /// The id in `M` of a block nested inside this block.
    pub const fn block<C: ?Sized>(self, inner: BlockId<B, C>) -> BlockId<M, C> {
        BlockId::new_unchecked(self.offset + inner.offset)
    }

    /// Index in `M` of the block's first candidate layer.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl<M: ?Sized, B: ?Sized> Clone for BlockId<M, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M: ?Sized, B: ?Sized> Copy for BlockId<M, B> {}
impl<M: ?Sized, B: ?Sized> fmt::Debug for BlockId<M, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockId(offset {})", self.offset)
    }
}

/// A layer name that the model does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct UnknownLayer {
    /// The name that was asked for.
    pub name: String,
    /// Every candidate layer the model has, in forward order.
    pub valid: Vec<String>,
}

impl UnknownLayer {
    /// `name` is not among `valid`.
    pub fn new(name: &str, valid: Vec<String>) -> Self {
        Self {
            name: name.to_string(),
            valid,
        }
    }

    fn message(&self) -> String {
        let mut msg = format!("the model has no candidate layer `{}`", self.name);
        if let Some(v) = crate::suggest::closest(&self.name, self.valid.iter().map(String::as_str))
        {
            msg.push_str(&format!("; did you mean `{v}`?"));
        }
        msg.push_str(&format!(
            "\nvalid layer names: {}",
            if self.valid.is_empty() {
                "(none)".to_string()
            } else {
                self.valid.join(", ")
            }
        ));
        msg
    }
}

/// A dfdx module that can be a field of an `#[amplifiable]` struct: anything dfdx can build,
/// optimize and move (every `TensorCollection`). Exists for its error message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a layer: fields of an #[amplifiable] struct must be dfdx modules",
    label = "not a dfdx module (no `TensorCollection<{E}, {D}>` impl)",
    note = "layer fields are dfdx modules such as `Linear<I, O, E, D>`, `ReLU` or an #[amplifiable] block",
    note = "if it is a dfdx module, it may need more of `E` and `D` than `AmpDtype` and `AmpDevice` give: add them with `#[amplifiable(bound = \"...\")]`"
)]
pub trait Layer<E: Dtype, D: Device<E>>: TensorCollection<E, D> {}
impl<E: Dtype, D: Device<E>, M: TensorCollection<E, D>> Layer<E, D> for M {}
