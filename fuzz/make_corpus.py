#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ in the input layouts of fuzz/targets.h.

Small valid files and edge cases, each named "<what>.<OUTCOME>" with the outcome the replay test
(fuzz/test_fuzz_replay.c) expects: an lf_status name, or "exit<N>" for the CLI targets. Pure
Python (no numpy); the output is deterministic. Usage: fuzz/make_corpus.py [corpus folder]."""
import gzip
import json
import pathlib
import shutil
import struct
import sys

OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "corpus"


def two(option, a, b=b""):
    """[option byte][u32 LE len(a)][a][b]"""
    return bytes([option]) + struct.pack("<I", len(a)) + a + b


def idx_images(n, h, w, fill=7):
    return struct.pack(">IIII", 0x803, n, h, w) + bytes((fill + i) % 256 for i in range(n * h * w))


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def npy(descr, shape, payload, version=1):
    shape_text = "(" + "".join(f"{d}, " for d in shape).rstrip(" ") + ")" if len(shape) != 1 else f"({shape[0]},)"
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}"
    prefix = 10 if version == 1 else 12
    pad = (-(prefix + len(header) + 1)) % 64
    header = (header + " " * pad + "\n").encode()
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header + payload


def f16(x):
    return struct.pack("<e", x)


def bf16(x):
    return struct.pack("<f", x)[2:]


DTYPE = {"F32": (4, lambda x: struct.pack("<f", x)), "F16": (2, f16), "BF16": (2, bf16),
         "F64": (8, lambda x: struct.pack("<d", x)), "I64": (8, lambda x: struct.pack("<q", int(x))),
         "U8": (1, lambda x: bytes([int(x)]))}


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, value or list)] in data order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, value in tensors:
        numel = 1
        for d in shape:
            numel *= d
        _, enc = DTYPE[dtype]
        values = value if isinstance(value, list) else [value] * numel
        blob = b"".join(enc(v) for v in values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + data


def linear(prefix, out, inp, dtype):
    return [(prefix + ".weight", dtype, [out, inp], 0.01), (prefix + ".bias", dtype, [out], 0.0)]


def batchnorm(prefix, c, dtype):
    return [(prefix + ".weight", dtype, [c], 1.0), (prefix + ".bias", dtype, [c], 0.0),
            (prefix + ".running_mean", dtype, [c], 0.0), (prefix + ".running_var", dtype, [c], 1.0),
            (prefix + ".num_batches_tracked", "I64", [], 3)]


def mlp(inp, classes, dtype):
    return linear("fc1", 256, inp, dtype) + linear("fc2", 256, 256, dtype) + linear("fc3", classes, 256, dtype)


def convnet(channels, side, classes, dtype, masks=False):
    k = side // 4
    t = [("conv1.weight", dtype, [32, channels, 3, 3], 0.02)] + batchnorm("bn1", 32, dtype)
    t += [("conv2.weight", dtype, [64, 32, 3, 3], 0.02)] + batchnorm("bn2", 64, dtype)
    t += linear("fc1", 128, 64 * k * k, dtype) + linear("fc2", classes, 128, dtype)
    if masks:
        t += [("conv1.weight_mask", "U8", [32, channels, 3, 3], [i % 2 for i in range(32 * channels * 9)])]
    return t


def corpus():
    c = {}
    c["idx"] = {
        "valid.LF_OK": two(0, idx_images(3, 2, 2), idx_labels([0, 1, 2])),
        "valid-10-classes.LF_OK": two(1, idx_images(2, 3, 1), idx_labels([9, 0])),
        "label-over-classes.LF_E_FORMAT": two(1, idx_images(2, 1, 1), idx_labels([3, 10])),
        "gzip.LF_OK": two(0, gzip.compress(idx_images(2, 2, 2), mtime=0), gzip.compress(idx_labels([1, 0]), mtime=0)),
        "truncated.LF_E_FORMAT": two(0, idx_images(3, 2, 2)[:-1], idx_labels([0, 1, 2])),
        "trailing.LF_E_FORMAT": two(0, idx_images(1, 2, 2) + b"x", idx_labels([0])),
        "count-mismatch.LF_E_FORMAT": two(0, idx_images(2, 2, 2), idx_labels([0])),
        "zero-dim.LF_E_FORMAT": two(0, struct.pack(">IIII", 0x803, 1, 0, 2), idx_labels([0])),
        "bad-magic.LF_E_FORMAT": two(0, struct.pack(">IIII", 0x801, 1, 1, 1) + b"\0", idx_labels([0])),
        "empty.LF_E_FORMAT": b"",
    }
    rec10 = lambda label: bytes([label]) + bytes(i % 251 for i in range(3072))
    rec100 = lambda coarse, fine: bytes([coarse, fine]) + bytes(255 - i % 256 for i in range(3072))
    c["cifar"] = {
        "cifar10.LF_OK": two(0, rec10(3)),
        "cifar10-two-files.LF_OK": two(2, rec10(9), rec10(0)),
        "cifar100.LF_OK": two(1, rec100(19, 99)),
        "cifar10-label-10.LF_E_FORMAT": two(0, rec10(10)),
        "truncated-record.LF_E_FORMAT": two(0, rec10(1)[:-1]),
        "empty-second-file.LF_E_FORMAT": two(2, rec10(1), b""),
    }
    u8 = bytes(range(8))
    c["npy"] = {
        "u8-nhw.LF_OK": two(0, npy("|u1", [2, 2, 2], u8), npy("<i8", [2], struct.pack("<qq", 0, 1))),
        "f32-nchw.LF_OK": two(1, npy("<f4", [1, 2, 1, 1], struct.pack("<ff", 0.0, 1.0)),
                              npy("|u1", [1], b"\x09")),
        "v2-header.LF_OK": two(0, npy("|u1", [1, 1, 1], b"\x80", version=2), npy("<u2", [1], b"\x05\x00", version=2)),
        "label-negative.LF_E_FORMAT": two(0, npy("|u1", [2, 1, 1], b"\0\0"), npy("<i4", [2], struct.pack("<ii", 0, -1))),
        "pixel-nan.LF_E_FORMAT": two(0, npy("<f4", [1, 1, 1], struct.pack("<f", float("nan"))), npy("|u1", [1], b"\0")),
        "fortran.LF_E_UNSUPPORTED": two(0, npy("|u1", [1, 1, 1], b"\0").replace(b"False", b"True "), npy("|u1", [1], b"\0")),
        "big-endian.LF_E_UNSUPPORTED": two(0, npy(">f4", [1, 1, 1], b"\0\0\0\0"), npy("|u1", [1], b"\0")),
        "shape-overflow.LF_E_FORMAT": two(0, npy("|u1", [4294967296, 4294967296, 4294967296], b""), npy("|u1", [1], b"\0")),
        "truncated.LF_E_FORMAT": two(0, npy("|u1", [2, 2, 2], u8[:7]), npy("|u1", [2], b"\0\1")),
    }
    meta = {"libforget.arch": "mlp", "libforget.input_shape": "1,2,2", "libforget.classes": "3"}
    c["safetensors"] = {
        # option byte: 0 = arch from the file, 1 mlp, 2 convnet, 3 resnet18
        "mlp-f16-metadata.LF_OK": b"\0" + safetensors(mlp(4, 3, "F16"), dict(meta, format="pt", note="x")),
        "mlp-inferred-bf16.LF_OK": b"\1" + safetensors(mlp(4, 2, "BF16")),
        "convnet-bf16-masks-norm.LF_OK": b"\0" + safetensors(
            convnet(1, 4, 2, "BF16", masks=True),
            {"libforget.arch": "convnet", "libforget.input_shape": "1,4,4", "libforget.classes": "2",
             "libforget.norm_mean": "0.5", "libforget.norm_std": "0.25"}),
        # the loader checks the model's tensors in order: fc1 is enough to fail on
        "mlp-missing-tensor.LF_E_FORMAT": b"\0" + safetensors(linear("fc1", 256, 4, "F16"), meta),
        "mlp-shape-mismatch.LF_E_SHAPE": b"\0" + safetensors(linear("fc1", 256, 5, "F64"), meta),
        "unknown-arch.LF_E_UNKNOWN_ARCH": b"\0" + safetensors([("x", "F32", [1], 1.0)], {"libforget.arch": "vit"}),
        "no-arch.LF_E_UNKNOWN_ARCH": b"\0" + safetensors([("x", "F64", [2, 1], 1.0)]),
        "bad-input-shape.LF_E_FORMAT": b"\0" + safetensors([("x", "F32", [1], 1.0)],
                                                           dict(meta, **{"libforget.input_shape": "1,2"})),
        "request-resnet18.LF_E_FORMAT": b"\3" + safetensors([("fc.weight", "F32", [2, 512], 0.0)]),
        "header-too-long.LF_E_FORMAT": b"\0" + struct.pack("<Q", 1 << 40) + b"{}",
        "header-not-json.LF_E_FORMAT": b"\0" + struct.pack("<Q", 8) + b"{\"a\":[1,",
        "overlap.LF_E_FORMAT": b"\0" + struct.pack("<Q", 96) + json.dumps(
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, separators=(",", ":")).encode().ljust(96) + b"\0" * 4,
        "empty.LF_E_FORMAT": b"",
    }
    c["forget_spec"] = {
        "random.exit0": b"random:0.1",
        "stratified.exit0": b"stratified:0.25",
        "class.exit0": b"class:3",
        "fraction-one.exit2": b"random:1",
        "fraction-nan.exit2": b"random:nan",
        "class-negative.exit2": b"class:-1",
        "unknown-kind.exit2": b"block:5",
        "no-colon.exit2": b"random",
        "empty-arg.exit2": b"class:",
        "exponent.exit0": b"stratified:1e-3",
    }
    c["indices"] = {
        "plain.exit0": b"0\n5\n17\n",
        "comments-blanks-crlf.exit0": b"# forget these\n\n  3\r\n\t4\n",
        "no-newline.exit0": b"42",
        "negative.exit2": b"1\n-2\n",
        "overflow.exit2": b"99999999999999999999\n",
        "only-comments.exit2": b"# nothing\n\n",
        "hex.exit2": b"0x10\n",
        "long-line.exit2": b"1" * 300 + b"\n",
    }
    return c


def main():
    total = 0
    for target, files in corpus().items():
        d = OUT / target
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        for name, data in files.items():
            (d / name).write_bytes(data)
            total += len(data)
    print(f"make_corpus: {sum(len(f) for f in corpus().values())} files, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
