"""The custom-model card of the sidebar: a model's architecture typed in as numbers with units and help."""

from __future__ import annotations

import panel as pn
import param

from dashboard.state import CustomModel

# parameter: (label in words with its unit, help: what it is and where a config.json keeps it)
CUSTOM_FIELDS: dict[str, tuple[str, str]] = {
    "model_name": ("Model name", "Shown in titles and tables."),
    "params_b": (
        "Parameters (billions)",
        "All weights, in billions: 8 for an 8B model, 0.5 for 500M. Sets the file size.",
    ),
    "n_layers": ("Layers (transformer blocks)", "Transformer blocks (num_hidden_layers in config.json)."),
    "hidden_size": ("Hidden size (model width)", "Width of each token's vector (hidden_size in config.json)."),
    "n_heads": ("Attention heads", "Attention (query) heads (num_attention_heads in config.json)."),
    "n_kv_heads": (
        "KV heads",
        "Key/value heads (num_key_value_heads in config.json): fewer than the attention heads with grouped-query "
        "attention, the same without. The KV cache grows with them.",
    ),
    "head_dim": (
        "Head dimension",
        "Size of one attention head (head_dim in config.json); usually hidden size ÷ attention heads.",
    ),
    "vocab_size": ("Vocabulary (tokens)", "Token vocabulary entries (vocab_size in config.json)."),
    "max_context": (
        "Trained context (tokens)",
        "Longest context the model was trained for (max_position_embeddings in config.json).",
    ),
}


class CustomModelCard(pn.viewable.Viewer):
    """Number inputs (not sliders: exact values, bounds from :mod:`dashboard.limits`) for a custom model's
    architecture, labelled in words with their units, as wide as the sidebar."""

    custom = param.ClassSelector(class_=CustomModel, doc="The architecture the inputs edit.")

    def widgets(self) -> list[pn.widgets.Widget]:
        """One input per architecture field, in the order of :data:`CUSTOM_FIELDS`."""
        out: list[pn.widgets.Widget] = []
        for field, (label, help_text) in CUSTOM_FIELDS.items():
            parameter = self.custom.param[field]
            if isinstance(parameter, param.String):
                kind: type[pn.widgets.Widget] = pn.widgets.TextInput
                extra = {}
            elif isinstance(parameter, param.Integer):
                kind, extra = pn.widgets.IntInput, {"step": 1}
            else:
                kind, extra = pn.widgets.FloatInput, {"step": 0.1}
            out.append(
                kind.from_param(
                    parameter,
                    name=label,
                    description=help_text,
                    sizing_mode="stretch_width",
                    width=None,  # Panel's default 300 px is wider than the sidebar's inside
                    # a style, not min_width: Panel derives a layout's min-width from its children's
                    styles={"min-width": "0"},
                    **extra,
                )
            )
        return out

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(*self.widgets(), sizing_mode="stretch_width", margin=0, styles={"min-width": "0"})
