// The seccomp filter of RUN commands, written as classic BPF.
#include "seccomp.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace dockwright::exec::detail {

#if defined(__x86_64__)

namespace {

/// The system calls the filter denies, with their numbers on x86_64 and on i386 (which an
/// x86_64 kernel also runs); -1 where the architecture lacks the call. From Debian 12's
/// linux-libc-dev headers asm/unistd_64.h and asm/unistd_32.h.
struct denied_call {
    int x86_64;
    int i386;
};

constexpr std::array<denied_call, 57> denied_calls{{
    {163, 51},   // acct
    {248, 286},  // add_key
    {321, 357},  // bpf
    {305, 343},  // clock_adjtime
    {-1, 405},   // clock_adjtime64
    {227, 264},  // clock_settime
    {-1, 404},   // clock_settime64
    {174, 127},  // create_module
    {176, 129},  // delete_module
    {313, 350},  // finit_module
    {431, 431},  // fsconfig
    {432, 432},  // fsmount
    {430, 430},  // fsopen
    {433, 433},  // fspick
    {177, 130},  // get_kernel_syms
    {239, 275},  // get_mempolicy
    {175, 128},  // init_module
    {173, 101},  // ioperm
    {172, 110},  // iopl
    {312, 349},  // kcmp
    {320, -1},   // kexec_file_load
    {246, 283},  // kexec_load
    {250, 288},  // keyctl
    {212, 253},  // lookup_dcookie
    {237, 274},  // mbind
    {165, 21},   // mount
    {442, 442},  // mount_setattr
    {429, 429},  // move_mount
    {279, 317},  // move_pages
    {180, 169},  // nfsservctl
    {304, 342},  // open_by_handle_at
    {428, 428},  // open_tree
    {298, 336},  // perf_event_open
    {155, 217},  // pivot_root
    {310, 347},  // process_vm_readv
    {311, 348},  // process_vm_writev
    {178, 167},  // query_module
    {179, 131},  // quotactl
    {443, 443},  // quotactl_fd
    {169, 88},   // reboot
    {249, 287},  // request_key
    {238, 276},  // set_mempolicy
    {308, 346},  // setns
    {164, 79},   // settimeofday
    {-1, 25},    // stime
    {168, 115},  // swapoff
    {167, 87},   // swapon
    {156, 149},  // _sysctl
    {139, 135},  // sysfs
    {-1, 22},    // umount
    {166, 52},   // umount2
    {272, 310},  // unshare
    {134, 86},   // uselib
    {323, 374},  // userfaultfd
    {136, 62},   // ustat
    {-1, 166},   // vm86
    {-1, 113},   // vm86old
}};

/// The personality(2) values Docker's profile allows: PER_LINUX, PER_LINUX32, each with
/// UNAME26, and 0xffffffff (which only queries the persona). The kernel reads 32 bits.
constexpr std::array<std::uint32_t, 5> allowed_personalities{0x0, 0x8, 0x20000, 0x20008,
                                                             0xffffffff};

/// Any of the CLONE_NEW* flags of clone(2), which reads the low 32 bits of its flags.
constexpr std::uint32_t new_namespace_flags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                              CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                              CLONE_NEWNET;

/// The first bit of x32 system call numbers, which share the x86_64 audit architecture.
constexpr std::uint32_t x32_bit = 0x40000000;

constexpr std::uint32_t data_nr = offsetof(seccomp_data, nr);
constexpr std::uint32_t data_arch = offsetof(seccomp_data, arch);
/// The low 32 bits of the first argument, on these little-endian architectures.
constexpr std::uint32_t data_arg0_low = offsetof(seccomp_data, args);

/// A classic BPF program under construction. Jumps name labels, which finish() turns into
/// the relative offsets of the instruction format.
class bpf_program {
  public:
    static constexpr int next = -1;

    int new_label() {
        labels_.push_back(0);
        return static_cast<int>(labels_.size() - 1);
    }
    void place(int label) { labels_[static_cast<std::size_t>(label)] = code_.size(); }
    void load(std::uint32_t offset) { add(BPF_LD | BPF_W | BPF_ABS, offset); }
    void give(std::uint32_t action) { add(BPF_RET | BPF_K, action); }
    /// Compares the accumulator with `k` (BPF_JEQ, BPF_JGE or BPF_JSET) and jumps.
    void jump(std::uint16_t comparison, std::uint32_t k, int on_true, int on_false = next) {
        jumps_.push_back({code_.size(), on_true, on_false});
        add(BPF_JMP | comparison | BPF_K, k);
    }

    std::vector<sock_filter> finish() {
        for (const pending_jump& entry : jumps_) {
            code_[entry.index].jt = offset(entry.index, entry.on_true);
            code_[entry.index].jf = offset(entry.index, entry.on_false);
        }
        return code_;
    }

  private:
    struct pending_jump {
        std::size_t index;
        int on_true;
        int on_false;
    };

    void add(std::uint16_t code, std::uint32_t k) { code_.push_back(sock_filter{code, 0, 0, k}); }

    std::uint8_t offset(std::size_t from, int label) const {
        if (label == next) return 0;
        const std::size_t distance = labels_[static_cast<std::size_t>(label)] - from - 1;
        // Classic BPF jumps forward at most 255 instructions.
        if (distance > 255) throw std::logic_error("seccomp filter: jump too far");
        return static_cast<std::uint8_t>(distance);
    }

    std::vector<sock_filter> code_;
    std::vector<pending_jump> jumps_;
    std::vector<std::size_t> labels_;
};

struct targets {
    int deny;
    int not_implemented;
    int allow;
};

/// The checks of one architecture, with the system call number in the accumulator.
void add_architecture(bpf_program& code, const targets& to, int denied_call::*column, int clone,
                      int clone3, int personality) {
    const int clone_check = code.new_label();
    const int personality_check = code.new_label();
    code.jump(BPF_JEQ, static_cast<std::uint32_t>(clone3), to.not_implemented);
    code.jump(BPF_JEQ, static_cast<std::uint32_t>(clone), clone_check);
    code.jump(BPF_JEQ, static_cast<std::uint32_t>(personality), personality_check);
    for (const denied_call& call : denied_calls) {
        if (call.*column >= 0)
            code.jump(BPF_JEQ, static_cast<std::uint32_t>(call.*column), to.deny);
    }
    code.give(SECCOMP_RET_ALLOW);

    code.place(clone_check);
    code.load(data_arg0_low);
    code.jump(BPF_JSET, new_namespace_flags, to.deny, to.allow);

    code.place(personality_check);
    code.load(data_arg0_low);
    for (const std::uint32_t value : allowed_personalities)
        code.jump(BPF_JEQ, value, to.allow);
    code.give(SECCOMP_RET_ERRNO | EPERM);
}

std::vector<sock_filter> build_filter() {
    bpf_program code;
    const targets to{code.new_label(), code.new_label(), code.new_label()};
    const int i386 = code.new_label();

    code.load(data_arch);
    code.jump(BPF_JEQ, AUDIT_ARCH_X86_64, bpf_program::next, i386);
    code.load(data_nr);
    // NOTE: x32 programs get ENOSYS for every system call: their numbers differ from x86_64's
    // for several of the denied calls, and this table does not list them.
    code.jump(BPF_JGE, x32_bit, to.not_implemented);
    add_architecture(code, to, &denied_call::x86_64, 56, 435, 135);

    code.place(i386);
    code.jump(BPF_JEQ, AUDIT_ARCH_I386, bpf_program::next, to.not_implemented);
    code.load(data_nr);
    add_architecture(code, to, &denied_call::i386, 120, 435, 136);

    code.place(to.deny);
    code.give(SECCOMP_RET_ERRNO | EPERM);
    code.place(to.not_implemented);
    code.give(SECCOMP_RET_ERRNO | ENOSYS);
    code.place(to.allow);
    code.give(SECCOMP_RET_ALLOW);
    return code.finish();
}

}  // namespace

const sock_fprog* seccomp_filter() {
    static const std::vector<sock_filter> code = build_filter();
    static const sock_fprog program{static_cast<unsigned short>(code.size()),
                                    const_cast<sock_filter*>(code.data())};
    return &program;
}

#else

const sock_fprog* seccomp_filter() {
    // TODO: system call tables for architectures other than x86_64.
    return nullptr;
}

#endif

}  // namespace dockwright::exec::detail
