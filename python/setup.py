"""A wheel that bundles the server binary is tied to the platform, not to a Python version; its
version is the repository's one version, VERSION (beside this file when scripts/package stages
the package, one level up in a checkout)."""
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
BUNDLED_BINARY = HERE / "src" / "twitter_upload_mock" / "bin" / "twitter-upload-mock"
VERSION = next(path for path in (HERE / "VERSION", HERE.parent / "VERSION") if path.exists()).read_text().strip()


class BinaryWhenBundled(Distribution):
    """Platform-specific when bin/ holds the binary: its files then go to platlib, where
    auditwheel looks for binaries to repair."""

    def has_ext_modules(self) -> bool:
        return BUNDLED_BINARY.exists()


class AnyPythonWheel(bdist_wheel):
    """py3-none-<platform>: the binary does not depend on the Python version or ABI."""

    def get_tag(self) -> tuple:
        python, abi, platform = super().get_tag()
        return (python, abi, platform) if self.root_is_pure else ("py3", "none", platform)


setup(version=VERSION, distclass=BinaryWhenBundled, cmdclass={"bdist_wheel": AnyPythonWheel})
