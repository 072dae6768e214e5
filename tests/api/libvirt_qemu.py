"""A libvirt daemon of the test's own with the QEMU driver, for the tests
that need a real hypervisor (backups of running domains): libvirtd in a
mount namespace of its own, where /etc/libvirt, /run/libvirt and
/var/{lib,cache,log}/libvirt are the test's directories and /etc/passwd
also names the libvirt-qemu user Debian's build of the driver looks up at
start (that user comes with libvirt-daemon-system, which brings systemd
along; here it is root, as qemu.conf makes QEMU), so the host's files are
neither read nor changed. Domains are emulated (TCG: no KVM needed), have
no OS (SeaBIOS finds nothing to boot and waits, a few % of one core) and
are transient: destroyed, and the daemon stopped, at the end.

Needs root, qemu-system-x86, libvirt-daemon, libvirt-daemon-driver-qemu and
libvirt-clients (scripts/install-deps.sh); skipped, saying which is
missing, otherwise."""
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

QEMU = "/usr/bin/qemu-system-x86_64"
LIBVIRTD = "/usr/sbin/libvirtd"

# In the daemon's mount namespace: the test's directories over libvirt's.
START = r"""set -e
D=$1
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do mkdir -p $d; done
mount --bind $D/etc /etc/libvirt
mount --bind $D/run /run/libvirt
mount --bind $D/lib /var/lib/libvirt
mount --bind $D/cache /var/cache/libvirt
mount --bind $D/log /var/log/libvirt
mount --bind $D/passwd /etc/passwd
mount --bind $D/group /etc/group
exec %s --pid-file $D/run/libvirtd.pid
""" % LIBVIRTD

QEMU_CONF = """user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
stdio_handler = "file"
"""

# As qemu:///system runs QEMU on Debian: as the libvirt-qemu user, libvirt
# (its DAC driver) handing each disk and backup file to that user while
# QEMU uses it.
QEMU_USER = 64055  # Debian's libvirt-qemu
QEMU_CONF_USER = """user = "libvirt-qemu"
group = "libvirt-qemu"
dynamic_ownership = 1
security_driver = "none"
stdio_handler = "file"
"""


class QemuLibvirt:
    def __init__(self, root, qemu_user=False):
        """qemu_user: QEMU runs as libvirt-qemu (QEMU_USER), not as root."""
        self.root = Path(root)
        self.qemu_user = qemu_user
        self.socket = self.root / "run" / "libvirt-sock"
        self.uri = "qemu+unix:///system?socket=%s" % self.socket
        self.proc = None

    def start(self, timeout=30):
        for d in ("etc", "run", "lib", "cache", "log"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        uid = QEMU_USER if self.qemu_user else 0
        (self.root / "etc" / "qemu.conf").write_text(QEMU_CONF_USER if self.qemu_user else QEMU_CONF)
        (self.root / "passwd").write_text(Path("/etc/passwd").read_text() +
                                          "libvirt-qemu:x:%d:%d:QEMU:/:/usr/sbin/nologin\n" % (uid, uid))
        (self.root / "group").write_text(self.groups(Path("/etc/group").read_text()) + "libvirt-qemu:x:%d:\n" % uid)
        self.log = open(self.root / "libvirtd.log", "ab")
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", START, "sh",
                                      str(self.root)], stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "libvirtd did not start (unshare or mount not permitted?): %s" % self.log_tail()
            if self.socket.exists() and self.virsh("version", check=False).returncode == 0:
                return None
            time.sleep(0.1)
        return "libvirtd did not answer within %ss: %s" % (timeout, self.log_tail())

    def groups(self, text):
        """/etc/group with libvirt-qemu in kvm, as Debian's packages make it:
        else libvirt, having probed QEMU with KVM (as root), finds KVM
        unusable for QEMU's user and probes QEMU again on every call (~5 s
        each)."""
        if not self.qemu_user:
            return text
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("kvm:"):
                lines[i] = line + ("," if not line.endswith(":") else "") + "libvirt-qemu"
        return "\n".join(lines) + "\n"

    def log_tail(self):
        return (self.root / "libvirtd.log").read_text(errors="replace")[-2000:]

    def virsh(self, *args, check=True):
        r = subprocess.run(["virsh", "-c", self.uri] + [str(a) for a in args], capture_output=True, text=True,
                           timeout=60)
        assert not check or r.returncode == 0, "virsh %s: %s" % (" ".join(map(str, args)), r.stderr)
        return r

    def start_domain(self, name, disks, project=None, os_version=None):
        """A running transient domain: disks are (file, format, target);
        the first is the system disk. Returns its UUID."""
        dom = str(uuid.uuid4())
        devices = "".join(
            "<disk type='file' device='disk'><driver name='qemu' type='%s'/><source file='%s'/>"
            "<target dev='%s' bus='virtio'/></disk>\n" % (fmt, path, target) for path, fmt, target in disks)
        meta = ""
        if project or os_version:
            meta = ("<metadata><ims:server xmlns:ims=\"https://imsd.invalid/compute/1\">%s%s</ims:server></metadata>"
                    % ("<ims:project>%s</ims:project>" % project if project else "",
                       "<ims:os_version>%s</ims:os_version>" % os_version if os_version else ""))
        xml = self.root / ("%s.xml" % dom)
        xml.write_text(
            "<domain type='qemu'><name>%s</name><uuid>%s</uuid><memory unit='MiB'>32</memory><vcpu>1</vcpu>\n"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><on_reboot>destroy</on_reboot>\n%s\n"
            "<devices><emulator>%s</emulator>\n%s<video><model type='none'/></video>"
            "<memballoon model='none'/></devices></domain>\n" % (name, dom, meta, QEMU, devices))
        self.virsh("create", xml)
        return dom

    def qemu_pid(self, name):
        """The process id of domain name's QEMU."""
        return int((self.root / "run" / "qemu" / ("%s.pid" % name)).read_text().strip())

    def backup_running(self, dom):
        """Whether the domain has a backup job (libvirt answers from its own
        records: also while QEMU is stopped)."""
        r = self.virsh("backup-dumpxml", dom, check=False)
        assert r.returncode == 0 or "no domain backup job" in r.stderr, r.stderr
        return r.returncode == 0

    def guest_write(self, dom, target_index, offset, data_byte, length):
        """The guest's write (QEMU's qemu-io on the disk's virtio device):
        it goes through QEMU's block layer as the guest's own would, with
        no flush after it."""
        cmd = "qemu-io -d /machine/peripheral/virtio-disk%d/virtio-backend \"write -P 0x%02x %d %d\"" % (
            target_index, data_byte, offset, length)
        r = self.virsh("qemu-monitor-command", dom, "--hmp", cmd)
        assert "rror" not in r.stdout, r.stdout

    def stop(self):
        for line in self.virsh("list", "--uuid", check=False).stdout.split():
            self.virsh("destroy", line.strip(), check=False)
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # a QEMU left running (the daemon gone first) is the test's own
        for pidfile in (self.root / "run" / "qemu").glob("*.pid"):
            try:
                os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
            except (ValueError, OSError):
                pass
        self.log.close()


def missing():
    if os.geteuid() != 0:
        return "a libvirt daemon of the test's own needs root"
    for path, package in ((QEMU, "qemu-system-x86"), (LIBVIRTD, "libvirt-daemon"),
                          ("/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
                           "libvirt-daemon-driver-qemu")):
        if not os.path.exists(path):
            return "needs %s (%s; scripts/install-deps.sh)" % (package, path)
    for tool, package in (("virsh", "libvirt-clients"), ("unshare", "util-linux")):
        if not shutil.which(tool):
            return "needs %s (%s)" % (tool, package)
    return None


def _daemon(tmp_path_factory, qemu_user):
    why = missing()
    if why:
        pytest.skip(why)
    lv = QemuLibvirt(tmp_path_factory.mktemp("libvirtd"), qemu_user=qemu_user)
    why = lv.start()
    if why:
        lv.stop()
        pytest.skip(why)
    yield lv
    lv.stop()


@pytest.fixture(scope="module")
def qemu_libvirt(tmp_path_factory):
    yield from _daemon(tmp_path_factory, False)


@pytest.fixture(scope="module")
def qemu_libvirt_user(tmp_path_factory):
    """QEMU as libvirt-qemu (QEMU_USER), libvirt's dynamic_ownership on: as
    qemu:///system runs it on Debian."""
    yield from _daemon(tmp_path_factory, True)
