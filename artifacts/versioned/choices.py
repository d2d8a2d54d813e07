"""The dropdown values of guide 4.2 and the CLI's spellings of guide 5.4, as one vocabulary.

The CLI sends upper-case identifiers (`OBJECT_DETECTION`, `TransferLearningToolkit`), the web form
the labels (`Object Detection`, `Transfer Learning Toolkit`). Both normalise to the label, which
is what we store and answer. Unknown application, framework and precision values are refused with
the valid list; a model format is free text in the CLI, so unknown formats are kept as given.
"""
import re

from registry_portal.errors import InvalidInput

APPLICATIONS = (
    "Annotation", "Automatic Speech Recognition", "Classification", "Content Generation", "Dialog State Tracking",
    "Image Classification", "Image Segmentation", "Image Synthesis", "Kubeflow Pipeline", "Language Modeling",
    "Named Entity Recognition", "Natural Language Processing", "Object Detection", "Punctuation And Capitalization",
    "Question Answering", "Recommender", "Segmentation", "Sentiment", "Speaker Diarization", "Speaker Recognition",
    "Speaker Verification", "Speech Recognition", "Speech Synthesis", "Text Classification", "Text Processing",
    "Text To Speech", "Translation", "Voice Activity Detection", "Other",
)
FRAMEWORKS = (
    "Caffe", "Caffe2", "Clara", "CNTK", "Keras", "MXNet", "NeMo/PyTorch", "PyTorch", "TensorFlow", "TensorFlow2",
    "TensorRT", "Torch", "Transfer Learning Toolkit", "Other",
)
MODEL_FORMATS = (
    "caffemodel", "HDF5", "NeMo", "ONNX", "PKL", "protobuf", "PyTorch PTH", "SavedModel", "TAO Toolkit",
    "TensorFlow CKPT", "TensorRT Plan", "TLT",
)
PRECISIONS = ("AMP", "FP16", "FP32", "FPBOTH", "INT8", "ALL", "OTHER")

# Spellings that do not normalise to a label by themselves.
_ALIASES = {
    "application": {
        "NLP": "Natural Language Processing", "ASR": "Automatic Speech Recognition",
        "AUTOMATIC_SPEECH_RECONGITION": "Automatic Speech Recognition",  # the guide's spelling
    },
    "framework": {"TRANSFERLEARNINGTOOLKIT": "Transfer Learning Toolkit", "TLT": "Transfer Learning Toolkit"},
    "modelFormat": {
        "HDF_5": "HDF5", "PY_TORCH_PTH": "PyTorch PTH", "SAVED_MODEL": "SavedModel", "TENSOR_FLOW_CKPT": "TensorFlow CKPT",
        "TENSORFLOW_CKPT": "TensorFlow CKPT", "TENSOR_RT_PLAN": "TensorRT Plan", "TAO_TOOLKIT": "TAO Toolkit",
    },
    "precision": {},
}


def _key(value: str) -> str:
    return re.sub(r"[\s/_-]+", "_", value.strip()).upper()


def _lookup(choices: tuple[str, ...], field: str) -> dict[str, str]:
    table = {_key(label): label for label in choices}
    table.update(_ALIASES[field])
    return table


_TABLES = {
    "application": _lookup(APPLICATIONS, "application"),
    "framework": _lookup(FRAMEWORKS, "framework"),
    "modelFormat": _lookup(MODEL_FORMATS, "modelFormat"),
    "precision": _lookup(PRECISIONS, "precision"),
}
_CHOICES = {"application": APPLICATIONS, "framework": FRAMEWORKS, "modelFormat": MODEL_FORMATS, "precision": PRECISIONS}
_STRICT = {"application", "framework", "precision"}


def normalise_choice(field: str, value: str | None) -> str:
    """The stored label for `value` of `field` (application, framework, modelFormat, precision);
    blank stays blank. Raises InvalidInput naming the valid values."""
    if value is None or not str(value).strip():
        return ""
    value = str(value).strip()
    label = _TABLES[field].get(_key(value))
    if label is not None:
        return label
    if field not in _STRICT:
        return value
    raise InvalidInput(f"Unknown {field} '{value}'. Valid values: {', '.join(_CHOICES[field])}.", field=field)
