"""Image and mask reading in every format the datasets ship, and the duplicate finder."""
import numpy as np
import pytest
from PIL import Image

from mmfusion.data.common import DatasetError, LoadReport
from mmfusion.data.duplicates import dhash, find_duplicates
from mmfusion.data.images import circle_mask, image_size, read_image, read_mask, window_to_uint8


@pytest.fixture
def gray():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (20, 30), dtype=np.uint8)


def test_pgm_p5_roundtrip(tmp_path, gray):
    path = tmp_path / "mdb001.pgm"
    path.write_bytes(b"P5\n30 20\n255\n" + gray.tobytes())  # written by hand, as MIAS stores it
    np.testing.assert_array_equal(read_image(path, mode="gray"), gray)
    rgb = read_image(path)
    assert rgb.shape == (20, 30, 3) and (rgb[..., 0] == gray).all() and (rgb[..., 2] == gray).all()
    assert image_size(path) == (20, 30)


def test_png_modes_and_resize(tmp_path, gray):
    rgb = np.stack([gray, 255 - gray, gray // 2], -1)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    # gray conversion follows ITU-R 601-2 luma (PIL's L), checked by hand formula
    luma = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(read_image(tmp_path / "a.png", mode="gray"), luma)
    out = read_image(tmp_path / "a.png", size=(10, 15), dtype=np.float32)
    ref = np.asarray(Image.fromarray(rgb).resize((15, 10), Image.BILINEAR), dtype=np.float32)
    assert out.dtype == np.float32 and out.shape == (10, 15, 3)
    np.testing.assert_allclose(out, ref)
    # RGBA: transparent pixels read as black
    rgba = np.dstack([rgb, np.where(gray > 128, 255, 0).astype(np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "b.png")
    got = read_image(tmp_path / "b.png")
    np.testing.assert_array_equal(got[gray <= 128], 0)
    np.testing.assert_array_equal(got[gray > 128], rgb[gray > 128])


def test_jpeg_close_to_source(tmp_path, gray):
    smooth = np.tile(np.linspace(0, 255, 30, dtype=np.uint8), (20, 1))
    Image.fromarray(smooth).save(tmp_path / "a.jpg", quality=95)
    assert np.abs(read_image(tmp_path / "a.jpg", mode="gray").astype(int) - smooth).max() <= 4


def _write_dicom(path, pixels, photometric="MONOCHROME2", slope=1.0, intercept=0.0):
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_dicom_16bit_float_and_window(tmp_path):
    pixels = np.arange(12 * 16, dtype=np.uint16).reshape(12, 16) * 300  # up to 57,300
    _write_dicom(tmp_path / "1-1.dcm", pixels, slope=2.0, intercept=-5.0)
    raw = read_image(tmp_path / "1-1.dcm", mode="gray", dtype=np.float32)
    np.testing.assert_allclose(raw, pixels * 2.0 - 5.0)
    u8 = read_image(tmp_path / "1-1.dcm", mode="gray")
    expected = np.round((raw - raw.min()) * 255.0 / (raw.max() - raw.min())).astype(np.uint8)
    np.testing.assert_array_equal(u8, expected)
    np.testing.assert_array_equal(window_to_uint8(raw, (0, 1000)), np.clip(np.round(raw * 0.255), 0, 255))
    assert image_size(tmp_path / "1-1.dcm") == (12, 16)
    _write_dicom(tmp_path / "inv.dcm", pixels, photometric="MONOCHROME1")
    inv = read_image(tmp_path / "inv.dcm", mode="gray", dtype=np.float32)
    np.testing.assert_allclose(inv, pixels.max() - pixels.astype(np.float32))


def test_corrupt_truncated_and_missing_files_name_the_file(tmp_path, gray):
    Image.fromarray(gray).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.jpg").write_bytes(b"not an image at all")
    (tmp_path / "bad.dcm").write_bytes(b"\0" * 200)
    for name in ("trunc.png", "junk.jpg", "bad.dcm", "absent.png"):
        with pytest.raises(DatasetError, match=name.replace(".", r"\.")):
            read_image(tmp_path / name)


def test_read_mask_binarises_every_mode_and_or_merges(tmp_path):
    a = np.zeros((8, 10), bool)
    a[1:4, 1:4] = True
    b = np.zeros((8, 10), bool)
    b[5:7, 6:9] = True
    Image.fromarray(a).convert("1").save(tmp_path / "x_mask.png")                     # 1-bit
    Image.fromarray((b * 255).astype(np.uint8)).convert("RGB").save(tmp_path / "x_mask_1.png")  # RGB
    merged = read_mask([tmp_path / "x_mask.png", tmp_path / "x_mask_1.png"])
    np.testing.assert_array_equal(merged, a | b)
    Image.fromarray(b.astype(np.uint8)).save(tmp_path / "zero_one.png")                 # L with 0/1
    np.testing.assert_array_equal(read_mask(tmp_path / "zero_one.png"), b)
    rgba = np.zeros((8, 10, 4), np.uint8)
    rgba[a] = (255, 255, 255, 255)
    rgba[~a] = (255, 255, 255,
                0)                                                       # white but transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "rgba.png"), a)
    assert read_mask([], shape=(3, 4)).shape == (3, 4)


def test_mask_size_mismatch_resized_nearest_and_reported(tmp_path):
    small = np.zeros((4, 5), bool)
    small[1:3, 2:4] = True
    Image.fromarray(small).save(tmp_path / "m.png")
    report = LoadReport("t", str(tmp_path))
    with pytest.warns(UserWarning, match="differs from image size"):
        got = read_mask(tmp_path / "m.png", shape=(8, 10), report=report)
    np.testing.assert_array_equal(got, np.kron(small, np.ones((2, 2), bool)))
    assert len(report.warnings) == 1 and "m.png" in report.warnings[0]


def test_circle_mask_matches_enumeration():
    m = circle_mask((9, 11), x=6, y=3, r=2.5)
    expected = {(r, c) for r in range(9) for c in range(11) if (c - 6) ** 2 + (r - 3) ** 2 <= 6.25}
    assert set(zip(*np.nonzero(m))) == expected


def test_find_duplicates_exact_and_near(tmp_path):
    rng = np.random.default_rng(3)
    paths = []
    for i in range(6):
        img = (rng.random((8, 8)) * 255).astype(np.uint8)
        img = np.asarray(Image.fromarray(img).resize((64, 48), Image.BICUBIC))
        Image.fromarray(img).save(tmp_path / f"{i}.png")
        paths.append(tmp_path / f"{i}.png")
    # exact copy (different file, same pixels) and a re-scaled near copy of image 0
    Image.open(paths[0]).save(tmp_path / "copy.png", compress_level=0)
    Image.open(paths[0]).resize((80, 60), Image.BILINEAR).save(tmp_path / "scaled.png")
    paths += [tmp_path / "copy.png", tmp_path / "scaled.png"]
    dups = find_duplicates(paths)
    assert dups.exact_pairs == [(0, 6)]
    assert [p[:2] for p in dups.near_pairs] == [(0, 7), (6, 7)]  # 6 is 0's exact copy
    assert dups.group_ids[0] == dups.group_ids[6] == dups.group_ids[7]
    assert len(set(dups.group_ids[:6])) == 6 and dups.n_groups == 1 and dups.n_duplicates == 2
    # hash bit count matches a hand loop over the thumbnail
    thumb = np.asarray(Image.open(paths[1]).convert("L").resize((9, 8), Image.BILINEAR), dtype=int)
    assert bin(dhash(np.asarray(Image.open(paths[1]).convert("L")))).count("1") == int((thumb[:,
                                                                                              1:] > thumb[:,
                                                                                                          :
                                                                                                          -1]).sum())
    assert find_duplicates(paths, near=False).n_duplicates == 1
