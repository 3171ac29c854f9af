from django import forms
from django.utils.translation import gettext_lazy as _


class TermForm(forms.Form):
    """A word of the search dictionary: a local place name, a unit, a local term."""

    word = forms.CharField(label=_("词语"), max_length=40)
    weight = forms.IntegerField(label=_("词频（可不填）"), required=False, min_value=1)
    pos = forms.CharField(label=_("词性（可不填，如 ns 地名）"), required=False, max_length=8)

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
