"""Models people use, converted with gemm_convt.convert and compared with the
original: torchvision's Mask R-CNN and Keypoint R-CNN (random weights,
inference). Their ConvTranspose2d layers sit in the mask / keypoint heads."""
import copy

import pytest
import torch

import gemm_convt

torchvision = pytest.importorskip("torchvision")
from torchvision.models.detection import keypointrcnn_resnet50_fpn, maskrcnn_resnet50_fpn  # noqa: E402
from torchvision.models.detection.keypoint_rcnn import KeypointRCNNPredictor  # noqa: E402
from torchvision.models.detection.mask_rcnn import MaskRCNNPredictor  # noqa: E402

# Small images keep the CPU run short; a score threshold of 0 and few classes
# make random weights still produce detections, so the heads run.
DETECTOR = dict(weights=None, weights_backbone=None, num_classes=3, min_size=128, max_size=160,
                box_score_thresh=0.0, box_detections_per_img=6)


def _images(seed, dtype):
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(3, 120, 150, generator=gen, dtype=dtype), torch.rand(3, 100, 128, generator=gen, dtype=dtype)]


def _convert_and_count(model):
    """A converted deep copy, and a list that counts calls of its gemm_convt layers."""
    converted = gemm_convt.convert(copy.deepcopy(model))
    calls = []
    layers = [m for m in converted.modules() if isinstance(m, gemm_convt.ConvTranspose2d)]
    for layer in layers:
        layer.register_forward_hook(lambda *args: calls.append(1))
    return converted, layers, calls


def _assert_same_detections(ref, out, dense_keys):
    """Boxes, labels and scores come before the heads, so they are identical;
    the head outputs (masks / keypoints) agree to float64 accuracy."""
    assert len(ref) == len(out)
    for r, o in zip(ref, out):
        assert set(r) == set(o)
        assert r["boxes"].shape[0] > 0, "no detections: the heads did not run"
        for key in ("boxes", "labels", "scores"):
            assert torch.equal(r[key], o[key]), key
        for key in dense_keys:
            assert torch.isfinite(o[key]).all(), key
            torch.testing.assert_close(o[key], r[key], rtol=1e-10, atol=1e-10)


def test_mask_rcnn():
    torch.manual_seed(801)
    model = maskrcnn_resnet50_fpn(**DETECTOR).eval().double()
    converted, layers, calls = _convert_and_count(model)
    assert [type(m) for m in layers] == [gemm_convt.ConvTranspose2d]
    assert converted.roi_heads.mask_predictor.conv5_mask is layers[0]
    images = _images(802, torch.float64)
    with torch.no_grad():
        ref = model(images)
        out = converted(images)
    assert calls, "the converted mask head was not called"
    _assert_same_detections(ref, out, ["masks"])


def test_keypoint_rcnn():
    torch.manual_seed(803)
    model = keypointrcnn_resnet50_fpn(**dict(DETECTOR, num_classes=2)).eval().double()
    converted, layers, calls = _convert_and_count(model)
    assert converted.roi_heads.keypoint_predictor.kps_score_lowres is layers[0]
    images = _images(804, torch.float64)
    with torch.no_grad():
        ref = model(images)
        out = converted(images)
    assert calls, "the converted keypoint head was not called"
    _assert_same_detections(ref, out, ["keypoints", "keypoints_scores"])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("head, features", [
    (lambda: MaskRCNNPredictor(256, 256, 91), (12, 256, 14, 14)),
    (lambda: KeypointRCNNPredictor(512, 17), (12, 512, 14, 14)),
], ids=["mask", "keypoint"])
def test_heads_against_float64(head, features, dtype, helpers):
    """The heads alone, on RoI features of the size the detectors feed them,
    against the original head in float64 on the same values."""
    torch.manual_seed(805)
    original = head().eval()
    converted = gemm_convt.convert(copy.deepcopy(original)).to(dtype)
    x = helpers.randn(features, 806, dtype)
    with torch.no_grad():
        ref = copy.deepcopy(original).double()(x.double())
        out = converted(x)
    helpers.assert_close_to_reference(out, ref, dtype)
