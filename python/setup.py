"""A wheel that bundles the server binary is tied to the platform, not to a Python version."""
from pathlib import Path

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel

BUNDLED_BINARY = Path(__file__).parent / "src" / "twitter_upload_mock" / "bin" / "twitter-upload-mock"


class PlatformWheelWhenBundled(bdist_wheel):
    """py3-none-linux_x86_64 when bin/ holds the binary (auditwheel then names the manylinux
    tag), py3-none-any otherwise."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = not BUNDLED_BINARY.exists()

    def get_tag(self) -> tuple:
        python, abi, platform = super().get_tag()
        return (python, abi, platform) if self.root_is_pure else ("py3", "none", platform)


setup(cmdclass={"bdist_wheel": PlatformWheelWhenBundled})
