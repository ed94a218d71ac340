"""Prints where packages go under an install prefix for this interpreter, relative to the prefix:
lib/python3.X/site-packages, or dist-packages for Debian's interpreter (which searches only
those)."""
import sysconfig

relative = sysconfig.get_path("platlib", "posix_prefix", vars={"platbase": ".", "base": "."})
if "dist-packages" in sysconfig.get_path("platlib"):
    relative = relative.replace("site-packages", "dist-packages")
print(relative.removeprefix("./"))
