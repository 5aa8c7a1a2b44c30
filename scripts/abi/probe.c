/*
 * scripts/abi/probe.c — the one description of what sysv-shm needs to know
 * about a Linux target (struct layouts, constants, errno values, syscall
 * numbers, libc symbol names).
 *
 * It is never run. scripts/abi/generate.ts compiles it with `-c` for each
 * target (host cc, musl-gcc, Debian cross compilers) and reads the answers
 * out of the object file: every value is stored as a marker string
 *
 *     "@@<kind>.<name>=<sign><20 decimal digits>@@"
 *
 * whose digits are computed by constant expressions, so the bytes are the
 * same whatever the target's endianness or word size.
 *
 * The file is compiled in four modes (selected with -D by the generator):
 *
 *   PROBE_MODE_LIST    no headers; emits the list of optional fields
 *                      (OPTIONAL_FIELDS below) so the generator can try them.
 *   PROBE_MODE_TRY     headers of PROBE_TRY_DOMAIN (libc or kernel) plus one
 *                      field PROBE_TRY_STRUCT.PROBE_TRY_FIELD, reported under
 *                      the marker key PROBE_TRY_KEY; a compile error means
 *                      the field does not exist on this target.
 *   PROBE_MODE_KERNEL  kernel uapi headers only (<linux/shm.h>, ...): the
 *                      kernel's own ipc64_perm/shmid64_ds/semid64_ds/
 *                      msqid64_ds/sockaddr_un (and sembuf/seminfo/msginfo
 *                      to cross-check the libc ones), the
 *                      futex_waitv and __kernel_timespec structs no libc
 *                      header declares, and the constants, used to fill
 *                      constants missing from the libc headers.
 *   (default)          libc headers: struct layouts, constants, errno,
 *                      syscall numbers, referenced symbols.
 */
#define _GNU_SOURCE 1

/* (x)-1 < 0 on an unsigned type is the point of the signedness test */
#pragma GCC diagnostic ignored "-Wtype-limits"

/* ------------------------------------------------------------------ */
/* Marker machinery                                                    */
/* ------------------------------------------------------------------ */

#define PROBE_CAT_(a, b) a##b
#define PROBE_CAT(a, b) PROBE_CAT_(a, b)
#define PROBE_STR_(x) #x
#define PROBE_STR(x) PROBE_STR_(x)

/* |v| as unsigned long long, and its decimal digit at power p. */
#define PROBE_ABS(v) ((v) < 0 ? 0ULL - (unsigned long long)(v) : (unsigned long long)(v))
#define PROBE_D(v, p) (char)('0' + (char)((PROBE_ABS(v) / (p)) % 10ULL))
#define PROBE_DIGITS(v) { \
    PROBE_D(v, 10000000000000000000ULL), PROBE_D(v, 1000000000000000000ULL), \
    PROBE_D(v, 100000000000000000ULL), PROBE_D(v, 10000000000000000ULL), \
    PROBE_D(v, 1000000000000000ULL), PROBE_D(v, 100000000000000ULL), \
    PROBE_D(v, 10000000000000ULL), PROBE_D(v, 1000000000000ULL), \
    PROBE_D(v, 100000000000ULL), PROBE_D(v, 10000000000ULL), \
    PROBE_D(v, 1000000000ULL), PROBE_D(v, 100000000ULL), \
    PROBE_D(v, 10000000ULL), PROBE_D(v, 1000000ULL), \
    PROBE_D(v, 100000ULL), PROBE_D(v, 10000ULL), \
    PROBE_D(v, 1000ULL), PROBE_D(v, 100ULL), \
    PROBE_D(v, 10ULL), PROBE_D(v, 1ULL) }

/* One numeric marker. `key` is a string literal such as "const.IPC_STAT". */
#define PROBE_NUM(key, v) \
    __attribute__((used)) static const struct { \
        char head[sizeof("@@" key "=") - 1]; char sign; char digits[20]; char tail[2]; \
    } PROBE_CAT(probe_marker_, __COUNTER__) = { \
        "@@" key "=", ((v) < 0 ? '-' : '+'), PROBE_DIGITS(v), { '@', '@' } };

/* One string marker (value must be a string literal). */
#define PROBE_TEXT(key, s) \
    __attribute__((used)) static const char PROBE_CAT(probe_marker_, __COUNTER__)[] = \
        "@@" key "=\"" s "\"@@";

/* Field of `struct S` under its logical name L, spelled F in C. */
#define PROBE_MEMBER(S, F) (((struct S *)0)->F)
#define PROBE_AGGREGATE(S, L, F) \
    PROBE_NUM("field." #S "." #L ".offset", __builtin_offsetof(struct S, F)) \
    PROBE_NUM("field." #S "." #L ".size", sizeof(PROBE_MEMBER(S, F)))
#define PROBE_FIELD(S, L, F) \
    PROBE_AGGREGATE(S, L, F) \
    PROBE_NUM("field." #S "." #L ".signed", ((__typeof__(PROBE_MEMBER(S, F)))-1 < 0))
#define PROBE_SIZEOF(S) PROBE_NUM("sizeof." #S, sizeof(struct S))
#define PROBE_CONST(N) PROBE_NUM("const." #N, (N))
#define PROBE_ERRNO(N) PROBE_NUM("errno." #N, (N))
#define PROBE_SYSCALL(L, N) PROBE_NUM("syscall." #L, (N))

/*
 * Fields that exist on some targets only, or are spelled differently by
 * glibc and musl. X(domain, struct, logical name, C spelling, required):
 * `required` = 1 means one of the spellings of that logical field must exist.
 */
#define OPTIONAL_FIELDS(X) \
    X(libc, ipc_perm, key, __key, 1) \
    X(libc, ipc_perm, key, __ipc_perm_key, 1) \
    X(libc, ipc_perm, key, key, 1) \
    X(libc, ipc_perm, seq, __seq, 1) \
    X(libc, ipc_perm, seq, __ipc_perm_seq, 1) \
    X(libc, ipc_perm, seq, seq, 1) \
    X(libc, shmid_ds, shm_atime_high, __shm_atime_high, 0) \
    X(libc, shmid_ds, shm_dtime_high, __shm_dtime_high, 0) \
    X(libc, shmid_ds, shm_ctime_high, __shm_ctime_high, 0) \
    X(libc, shm_info, used_ids, used_ids, 1) \
    X(libc, shm_info, used_ids, __used_ids, 1) \
    X(libc, shm_info, swap_attempts, swap_attempts, 1) \
    X(libc, shm_info, swap_attempts, __swap_attempts, 1) \
    X(libc, shm_info, swap_successes, swap_successes, 1) \
    X(libc, shm_info, swap_successes, __swap_successes, 1) \
    X(kernel, shmid64_ds, shm_atime_high, shm_atime_high, 0) \
    X(kernel, shmid64_ds, shm_dtime_high, shm_dtime_high, 0) \
    X(kernel, shmid64_ds, shm_ctime_high, shm_ctime_high, 0) \
    X(libc, semid_ds, sem_otime_high, __sem_otime_high, 0) \
    X(libc, semid_ds, sem_ctime_high, __sem_ctime_high, 0) \
    X(libc, msqid_ds, msg_stime_high, __msg_stime_high, 0) \
    X(libc, msqid_ds, msg_rtime_high, __msg_rtime_high, 0) \
    X(libc, msqid_ds, msg_ctime_high, __msg_ctime_high, 0) \
    X(libc, msqid_ds, msg_cbytes, __msg_cbytes, 1) \
    X(libc, msqid_ds, msg_cbytes, msg_cbytes, 1) \
    X(kernel, semid64_ds, sem_otime_high, sem_otime_high, 0) \
    X(kernel, semid64_ds, sem_ctime_high, sem_ctime_high, 0) \
    X(kernel, msqid64_ds, msg_stime_high, msg_stime_high, 0) \
    X(kernel, msqid64_ds, msg_rtime_high, msg_rtime_high, 0) \
    X(kernel, msqid64_ds, msg_ctime_high, msg_ctime_high, 0)

/* ------------------------------------------------------------------ */
#if defined(PROBE_MODE_LIST)
/* ------------------------------------------------------------------ */

#define PROBE_LIST_ONE(D, S, L, F, R) \
    PROBE_TEXT("optional", #D " " #S " " #L " " #F " " #R)
OPTIONAL_FIELDS(PROBE_LIST_ONE)

/* ------------------------------------------------------------------ */
#elif defined(PROBE_MODE_TRY)
/* ------------------------------------------------------------------ */

#define PROBE_DOMAIN_libc 1
#define PROBE_DOMAIN_kernel 2
#if PROBE_CAT(PROBE_DOMAIN_, PROBE_TRY_DOMAIN) == 2
#  include <linux/ipc.h>
#  include <linux/shm.h>
#  include <linux/sem.h>
#  include <linux/msg.h>
#else
#  include <sys/types.h>
#  include <sys/ipc.h>
#  include <sys/shm.h>
#  include <sys/sem.h>
#  include <sys/msg.h>
#endif
/* The marker key comes as a string (-DPROBE_TRY_KEY="struct.logical"): a
 * logical name may also be a libc macro (glibc: #define msg_cbytes
 * __msg_cbytes), which would be expanded if it went through the macros. */
#define PROBE_TRY_MEMBER (((struct PROBE_TRY_STRUCT *)0)->PROBE_TRY_FIELD)
PROBE_NUM("field." PROBE_TRY_KEY ".offset", __builtin_offsetof(struct PROBE_TRY_STRUCT, PROBE_TRY_FIELD))
PROBE_NUM("field." PROBE_TRY_KEY ".size", sizeof(PROBE_TRY_MEMBER))
PROBE_NUM("field." PROBE_TRY_KEY ".signed", ((__typeof__(PROBE_TRY_MEMBER))-1 < 0))

/* ------------------------------------------------------------------ */
#else /* libc mode or kernel mode: the headers, then the common lists */
/* ------------------------------------------------------------------ */

#if defined(PROBE_MODE_KERNEL)
#  include <linux/version.h>
#  include <linux/ipc.h>      /* struct ipc64_perm via <asm/ipcbuf.h>, IPC_* */
#  include <linux/shm.h>      /* struct shmid64_ds via <asm/shmbuf.h>, SHM_* */
#  include <linux/sem.h>      /* struct semid64_ds via <asm/sembuf.h>, sembuf, seminfo, SEM*, GET*, SET* */
#  include <linux/msg.h>      /* struct msqid64_ds via <asm/msgbuf.h>, msginfo, MSG_* (MSG_COPY), MSGMAX... */
#  include <linux/mman.h>     /* PROT_*, MAP_* */
#  include <linux/futex.h>    /* FUTEX_*, struct futex_waitv */
#  include <linux/un.h>       /* struct sockaddr_un (the kernel's) */
#  include <linux/time.h>     /* CLOCK_* */
#  include <linux/time_types.h> /* struct __kernel_timespec */
#  include <asm/socket.h>     /* SOL_SOCKET, SO_* */
#  include <asm/fcntl.h>      /* O_*, F_GETFL */
#  include <asm/errno.h>
#  include <asm/unistd.h>     /* __NR_* */
#else
#  include <sys/types.h>
#  include <sys/ipc.h>
#  include <sys/shm.h>
#  include <sys/sem.h>
#  include <sys/msg.h>
#  include <sys/mman.h>
#  include <sys/syscall.h>
#  include <sys/socket.h>     /* AF_*, SOCK_*, MSG_*, SOL_SOCKET, SO_* */
#  include <sys/un.h>         /* struct sockaddr_un */
#  include <signal.h>         /* SIG_BLOCK, SIG_SETMASK, SIGPIPE */
#  include <fcntl.h>          /* O_*, F_GETFL, SPLICE_F_* (_GNU_SOURCE) */
#  include <errno.h>
#  include <time.h>
#  include <unistd.h>
#  include <limits.h>         /* pulls <features.h> on glibc */
#endif

PROBE_NUM("info.little_endian", (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__))
PROBE_NUM("info.sizeof_long", sizeof(long))
PROBE_NUM("info.sizeof_pointer", sizeof(void *))
PROBE_TEXT("info.compiler", __VERSION__)

/* ---- constants: probed in both translation units; libc wins, the kernel
 *      uapi headers fill what the libc headers lack. ---- */
#ifdef IPC_PRIVATE
PROBE_CONST(IPC_PRIVATE)
#endif
#ifdef IPC_CREAT
PROBE_CONST(IPC_CREAT)
#endif
#ifdef IPC_EXCL
PROBE_CONST(IPC_EXCL)
#endif
#ifdef IPC_NOWAIT
PROBE_CONST(IPC_NOWAIT)
#endif
#ifdef IPC_RMID
PROBE_CONST(IPC_RMID)
#endif
#ifdef IPC_SET
PROBE_CONST(IPC_SET)
#endif
#ifdef IPC_STAT
PROBE_CONST(IPC_STAT)
#endif
#ifdef IPC_INFO
PROBE_CONST(IPC_INFO)
#endif
#ifdef SHM_RDONLY
PROBE_CONST(SHM_RDONLY)
#endif
#ifdef SHM_RND
PROBE_CONST(SHM_RND)
#endif
#ifdef SHM_REMAP
PROBE_CONST(SHM_REMAP)
#endif
#ifdef SHM_EXEC
PROBE_CONST(SHM_EXEC)
#endif
#ifdef SHM_LOCK
PROBE_CONST(SHM_LOCK)
#endif
#ifdef SHM_UNLOCK
PROBE_CONST(SHM_UNLOCK)
#endif
#ifdef SHM_STAT
PROBE_CONST(SHM_STAT)
#endif
#ifdef SHM_INFO
PROBE_CONST(SHM_INFO)
#endif
#ifdef SHM_STAT_ANY
PROBE_CONST(SHM_STAT_ANY)
#endif
#ifdef SHM_HUGETLB
PROBE_CONST(SHM_HUGETLB)
#endif
#ifdef SHM_NORESERVE
PROBE_CONST(SHM_NORESERVE)
#endif
#ifdef SHM_HUGE_SHIFT
PROBE_CONST(SHM_HUGE_SHIFT)
#endif
#ifdef SHM_HUGE_2MB
PROBE_CONST(SHM_HUGE_2MB)
#endif
#ifdef SHM_HUGE_1GB
PROBE_CONST(SHM_HUGE_1GB)
#endif
#ifdef SHM_HUGE_MASK
PROBE_CONST(SHM_HUGE_MASK)
#endif
#ifdef SHM_DEST
PROBE_CONST(SHM_DEST)
#endif
#ifdef SHM_LOCKED
PROBE_CONST(SHM_LOCKED)
#endif
/* semaphores and message queues (SEMVMX, MSGMAX... limits: the kernel's documented
 * defaults, <linux/sem.h>/<linux/msg.h>; the real limits are runtime sysctls) */
#ifdef SEM_UNDO
PROBE_CONST(SEM_UNDO)
#endif
#ifdef GETPID
PROBE_CONST(GETPID)
#endif
#ifdef GETVAL
PROBE_CONST(GETVAL)
#endif
#ifdef GETALL
PROBE_CONST(GETALL)
#endif
#ifdef GETNCNT
PROBE_CONST(GETNCNT)
#endif
#ifdef GETZCNT
PROBE_CONST(GETZCNT)
#endif
#ifdef SETVAL
PROBE_CONST(SETVAL)
#endif
#ifdef SETALL
PROBE_CONST(SETALL)
#endif
#ifdef SEM_STAT
PROBE_CONST(SEM_STAT)
#endif
#ifdef SEM_INFO
PROBE_CONST(SEM_INFO)
#endif
#ifdef SEM_STAT_ANY
PROBE_CONST(SEM_STAT_ANY)
#endif
#ifdef MSG_NOERROR
PROBE_CONST(MSG_NOERROR)
#endif
#ifdef MSG_EXCEPT
PROBE_CONST(MSG_EXCEPT)
#endif
#ifdef MSG_COPY
PROBE_CONST(MSG_COPY)
#endif
#ifdef MSG_STAT
PROBE_CONST(MSG_STAT)
#endif
#ifdef MSG_INFO
PROBE_CONST(MSG_INFO)
#endif
#ifdef MSG_STAT_ANY
PROBE_CONST(MSG_STAT_ANY)
#endif
#ifdef SEMVMX
PROBE_CONST(SEMVMX)
#endif
#ifdef SEMMSL
PROBE_CONST(SEMMSL)
#endif
#ifdef SEMOPM
PROBE_CONST(SEMOPM)
#endif
#ifdef SEMMNI
PROBE_CONST(SEMMNI)
#endif
#ifdef SEMAEM
PROBE_CONST(SEMAEM)
#endif
#ifdef MSGMAX
PROBE_CONST(MSGMAX)
#endif
#ifdef MSGMNB
PROBE_CONST(MSGMNB)
#endif
#ifdef MSGMNI
PROBE_CONST(MSGMNI)
#endif
#ifdef PROT_NONE
PROBE_CONST(PROT_NONE)
#endif
#ifdef PROT_READ
PROBE_CONST(PROT_READ)
#endif
#ifdef PROT_WRITE
PROBE_CONST(PROT_WRITE)
#endif
#ifdef MAP_SHARED
PROBE_CONST(MAP_SHARED)
#endif
#ifdef MAP_PRIVATE
PROBE_CONST(MAP_PRIVATE)
#endif
#ifdef MAP_ANONYMOUS
PROBE_CONST(MAP_ANONYMOUS)
#endif
#ifdef MAP_FIXED
PROBE_CONST(MAP_FIXED)
#endif
#ifdef MAP_NORESERVE
PROBE_CONST(MAP_NORESERVE)
#endif
#ifdef MAP_FIXED_NOREPLACE
PROBE_CONST(MAP_FIXED_NOREPLACE)
#endif
#ifdef MADV_DONTFORK
PROBE_CONST(MADV_DONTFORK)
#endif
#ifdef FUTEX_WAIT
PROBE_CONST(FUTEX_WAIT)
#endif
#ifdef FUTEX_WAKE
PROBE_CONST(FUTEX_WAKE)
#endif
#ifdef FUTEX_PRIVATE_FLAG
PROBE_CONST(FUTEX_PRIVATE_FLAG)
#endif
#ifdef FUTEX_WAIT_BITSET
PROBE_CONST(FUTEX_WAIT_BITSET)
#endif
#ifdef FUTEX_BITSET_MATCH_ANY
PROBE_CONST(FUTEX_BITSET_MATCH_ANY)
#endif
#ifdef FUTEX_CLOCK_REALTIME
PROBE_CONST(FUTEX_CLOCK_REALTIME)
#endif
/* futex_waitv(2): the size flag of a 32-bit word, and the most waiters per call */
#ifdef FUTEX_32
PROBE_CONST(FUTEX_32)
#endif
#ifdef FUTEX_WAITV_MAX
PROBE_CONST(FUTEX_WAITV_MAX)
#endif
/* clocks (futex_waitv's clockid argument) */
#ifdef CLOCK_REALTIME
PROBE_CONST(CLOCK_REALTIME)
#endif
#ifdef CLOCK_MONOTONIC
PROBE_CONST(CLOCK_MONOTONIC)
#endif
/* sigprocmask(2) (mips: SIG_BLOCK 1, elsewhere 0) and the signal a send to a closed peer raises */
#ifdef SIG_BLOCK
PROBE_CONST(SIG_BLOCK)
#endif
#ifdef SIG_UNBLOCK
PROBE_CONST(SIG_UNBLOCK)
#endif
#ifdef SIG_SETMASK
PROBE_CONST(SIG_SETMASK)
#endif
#ifdef SIGPIPE
PROBE_CONST(SIGPIPE)
#endif
/* sockets (the event loop's doorbell: an abstract AF_UNIX stream socket) */
#ifdef AF_UNIX
PROBE_CONST(AF_UNIX)
#endif
#ifdef SOCK_STREAM
PROBE_CONST(SOCK_STREAM)
#endif
#ifdef SOCK_NONBLOCK
PROBE_CONST(SOCK_NONBLOCK)
#endif
#ifdef SOCK_CLOEXEC
PROBE_CONST(SOCK_CLOEXEC)
#endif
#ifdef MSG_DONTWAIT
PROBE_CONST(MSG_DONTWAIT)
#endif
#ifdef MSG_NOSIGNAL
PROBE_CONST(MSG_NOSIGNAL)
#endif
#ifdef SOL_SOCKET
PROBE_CONST(SOL_SOCKET)
#endif
#ifdef SO_SNDBUF
PROBE_CONST(SO_SNDBUF)
#endif
#ifdef O_WRONLY
PROBE_CONST(O_WRONLY)
#endif
#ifdef O_RDWR
PROBE_CONST(O_RDWR)
#endif
#ifdef O_NONBLOCK
PROBE_CONST(O_NONBLOCK)
#endif
#ifdef O_CLOEXEC
PROBE_CONST(O_CLOEXEC)
#endif
#ifdef F_GETFL
PROBE_CONST(F_GETFL)
#endif
#ifdef SPLICE_F_NONBLOCK
PROBE_CONST(SPLICE_F_NONBLOCK)
#endif
#ifdef _SC_PAGESIZE
/* an enum on glibc (the macro expands to the enumerator), a macro on musl */
PROBE_CONST(_SC_PAGESIZE)
#endif

/* ---- errno: every Linux errno name; absent names are simply skipped ---- */
#ifdef EPERM
PROBE_ERRNO(EPERM)
#endif
#ifdef ENOENT
PROBE_ERRNO(ENOENT)
#endif
#ifdef ESRCH
PROBE_ERRNO(ESRCH)
#endif
#ifdef EINTR
PROBE_ERRNO(EINTR)
#endif
#ifdef EIO
PROBE_ERRNO(EIO)
#endif
#ifdef ENXIO
PROBE_ERRNO(ENXIO)
#endif
#ifdef E2BIG
PROBE_ERRNO(E2BIG)
#endif
#ifdef ENOEXEC
PROBE_ERRNO(ENOEXEC)
#endif
#ifdef EBADF
PROBE_ERRNO(EBADF)
#endif
#ifdef ECHILD
PROBE_ERRNO(ECHILD)
#endif
#ifdef EAGAIN
PROBE_ERRNO(EAGAIN)
#endif
#ifdef ENOMEM
PROBE_ERRNO(ENOMEM)
#endif
#ifdef EACCES
PROBE_ERRNO(EACCES)
#endif
#ifdef EFAULT
PROBE_ERRNO(EFAULT)
#endif
#ifdef ENOTBLK
PROBE_ERRNO(ENOTBLK)
#endif
#ifdef EBUSY
PROBE_ERRNO(EBUSY)
#endif
#ifdef EEXIST
PROBE_ERRNO(EEXIST)
#endif
#ifdef EXDEV
PROBE_ERRNO(EXDEV)
#endif
#ifdef ENODEV
PROBE_ERRNO(ENODEV)
#endif
#ifdef ENOTDIR
PROBE_ERRNO(ENOTDIR)
#endif
#ifdef EISDIR
PROBE_ERRNO(EISDIR)
#endif
#ifdef EINVAL
PROBE_ERRNO(EINVAL)
#endif
#ifdef ENFILE
PROBE_ERRNO(ENFILE)
#endif
#ifdef EMFILE
PROBE_ERRNO(EMFILE)
#endif
#ifdef ENOTTY
PROBE_ERRNO(ENOTTY)
#endif
#ifdef ETXTBSY
PROBE_ERRNO(ETXTBSY)
#endif
#ifdef EFBIG
PROBE_ERRNO(EFBIG)
#endif
#ifdef ENOSPC
PROBE_ERRNO(ENOSPC)
#endif
#ifdef ESPIPE
PROBE_ERRNO(ESPIPE)
#endif
#ifdef EROFS
PROBE_ERRNO(EROFS)
#endif
#ifdef EMLINK
PROBE_ERRNO(EMLINK)
#endif
#ifdef EPIPE
PROBE_ERRNO(EPIPE)
#endif
#ifdef EDOM
PROBE_ERRNO(EDOM)
#endif
#ifdef ERANGE
PROBE_ERRNO(ERANGE)
#endif
#ifdef EDEADLK
PROBE_ERRNO(EDEADLK)
#endif
#ifdef ENAMETOOLONG
PROBE_ERRNO(ENAMETOOLONG)
#endif
#ifdef ENOLCK
PROBE_ERRNO(ENOLCK)
#endif
#ifdef ENOSYS
PROBE_ERRNO(ENOSYS)
#endif
#ifdef ENOTEMPTY
PROBE_ERRNO(ENOTEMPTY)
#endif
#ifdef ELOOP
PROBE_ERRNO(ELOOP)
#endif
#ifdef EWOULDBLOCK
PROBE_ERRNO(EWOULDBLOCK)
#endif
#ifdef ENOMSG
PROBE_ERRNO(ENOMSG)
#endif
#ifdef EIDRM
PROBE_ERRNO(EIDRM)
#endif
#ifdef ECHRNG
PROBE_ERRNO(ECHRNG)
#endif
#ifdef EL2NSYNC
PROBE_ERRNO(EL2NSYNC)
#endif
#ifdef EL3HLT
PROBE_ERRNO(EL3HLT)
#endif
#ifdef EL3RST
PROBE_ERRNO(EL3RST)
#endif
#ifdef ELNRNG
PROBE_ERRNO(ELNRNG)
#endif
#ifdef EUNATCH
PROBE_ERRNO(EUNATCH)
#endif
#ifdef ENOCSI
PROBE_ERRNO(ENOCSI)
#endif
#ifdef EL2HLT
PROBE_ERRNO(EL2HLT)
#endif
#ifdef EBADE
PROBE_ERRNO(EBADE)
#endif
#ifdef EBADR
PROBE_ERRNO(EBADR)
#endif
#ifdef EXFULL
PROBE_ERRNO(EXFULL)
#endif
#ifdef ENOANO
PROBE_ERRNO(ENOANO)
#endif
#ifdef EBADRQC
PROBE_ERRNO(EBADRQC)
#endif
#ifdef EBADSLT
PROBE_ERRNO(EBADSLT)
#endif
#ifdef EDEADLOCK
PROBE_ERRNO(EDEADLOCK)
#endif
#ifdef EBFONT
PROBE_ERRNO(EBFONT)
#endif
#ifdef ENOSTR
PROBE_ERRNO(ENOSTR)
#endif
#ifdef ENODATA
PROBE_ERRNO(ENODATA)
#endif
#ifdef ETIME
PROBE_ERRNO(ETIME)
#endif
#ifdef ENOSR
PROBE_ERRNO(ENOSR)
#endif
#ifdef ENONET
PROBE_ERRNO(ENONET)
#endif
#ifdef ENOPKG
PROBE_ERRNO(ENOPKG)
#endif
#ifdef EREMOTE
PROBE_ERRNO(EREMOTE)
#endif
#ifdef ENOLINK
PROBE_ERRNO(ENOLINK)
#endif
#ifdef EADV
PROBE_ERRNO(EADV)
#endif
#ifdef ESRMNT
PROBE_ERRNO(ESRMNT)
#endif
#ifdef ECOMM
PROBE_ERRNO(ECOMM)
#endif
#ifdef EPROTO
PROBE_ERRNO(EPROTO)
#endif
#ifdef EMULTIHOP
PROBE_ERRNO(EMULTIHOP)
#endif
#ifdef EDOTDOT
PROBE_ERRNO(EDOTDOT)
#endif
#ifdef EBADMSG
PROBE_ERRNO(EBADMSG)
#endif
#ifdef EOVERFLOW
PROBE_ERRNO(EOVERFLOW)
#endif
#ifdef ENOTUNIQ
PROBE_ERRNO(ENOTUNIQ)
#endif
#ifdef EBADFD
PROBE_ERRNO(EBADFD)
#endif
#ifdef EREMCHG
PROBE_ERRNO(EREMCHG)
#endif
#ifdef ELIBACC
PROBE_ERRNO(ELIBACC)
#endif
#ifdef ELIBBAD
PROBE_ERRNO(ELIBBAD)
#endif
#ifdef ELIBSCN
PROBE_ERRNO(ELIBSCN)
#endif
#ifdef ELIBMAX
PROBE_ERRNO(ELIBMAX)
#endif
#ifdef ELIBEXEC
PROBE_ERRNO(ELIBEXEC)
#endif
#ifdef EILSEQ
PROBE_ERRNO(EILSEQ)
#endif
#ifdef ERESTART
PROBE_ERRNO(ERESTART)
#endif
#ifdef ESTRPIPE
PROBE_ERRNO(ESTRPIPE)
#endif
#ifdef EUSERS
PROBE_ERRNO(EUSERS)
#endif
#ifdef ENOTSOCK
PROBE_ERRNO(ENOTSOCK)
#endif
#ifdef EDESTADDRREQ
PROBE_ERRNO(EDESTADDRREQ)
#endif
#ifdef EMSGSIZE
PROBE_ERRNO(EMSGSIZE)
#endif
#ifdef EPROTOTYPE
PROBE_ERRNO(EPROTOTYPE)
#endif
#ifdef ENOPROTOOPT
PROBE_ERRNO(ENOPROTOOPT)
#endif
#ifdef EPROTONOSUPPORT
PROBE_ERRNO(EPROTONOSUPPORT)
#endif
#ifdef ESOCKTNOSUPPORT
PROBE_ERRNO(ESOCKTNOSUPPORT)
#endif
#ifdef EOPNOTSUPP
PROBE_ERRNO(EOPNOTSUPP)
#endif
#ifdef ENOTSUP
PROBE_ERRNO(ENOTSUP)
#endif
#ifdef EPFNOSUPPORT
PROBE_ERRNO(EPFNOSUPPORT)
#endif
#ifdef EAFNOSUPPORT
PROBE_ERRNO(EAFNOSUPPORT)
#endif
#ifdef EADDRINUSE
PROBE_ERRNO(EADDRINUSE)
#endif
#ifdef EADDRNOTAVAIL
PROBE_ERRNO(EADDRNOTAVAIL)
#endif
#ifdef ENETDOWN
PROBE_ERRNO(ENETDOWN)
#endif
#ifdef ENETUNREACH
PROBE_ERRNO(ENETUNREACH)
#endif
#ifdef ENETRESET
PROBE_ERRNO(ENETRESET)
#endif
#ifdef ECONNABORTED
PROBE_ERRNO(ECONNABORTED)
#endif
#ifdef ECONNRESET
PROBE_ERRNO(ECONNRESET)
#endif
#ifdef ENOBUFS
PROBE_ERRNO(ENOBUFS)
#endif
#ifdef EISCONN
PROBE_ERRNO(EISCONN)
#endif
#ifdef ENOTCONN
PROBE_ERRNO(ENOTCONN)
#endif
#ifdef ESHUTDOWN
PROBE_ERRNO(ESHUTDOWN)
#endif
#ifdef ETOOMANYREFS
PROBE_ERRNO(ETOOMANYREFS)
#endif
#ifdef ETIMEDOUT
PROBE_ERRNO(ETIMEDOUT)
#endif
#ifdef ECONNREFUSED
PROBE_ERRNO(ECONNREFUSED)
#endif
#ifdef EHOSTDOWN
PROBE_ERRNO(EHOSTDOWN)
#endif
#ifdef EHOSTUNREACH
PROBE_ERRNO(EHOSTUNREACH)
#endif
#ifdef EALREADY
PROBE_ERRNO(EALREADY)
#endif
#ifdef EINPROGRESS
PROBE_ERRNO(EINPROGRESS)
#endif
#ifdef ESTALE
PROBE_ERRNO(ESTALE)
#endif
#ifdef EUCLEAN
PROBE_ERRNO(EUCLEAN)
#endif
#ifdef ENOTNAM
PROBE_ERRNO(ENOTNAM)
#endif
#ifdef ENAVAIL
PROBE_ERRNO(ENAVAIL)
#endif
#ifdef EISNAM
PROBE_ERRNO(EISNAM)
#endif
#ifdef EREMOTEIO
PROBE_ERRNO(EREMOTEIO)
#endif
#ifdef EDQUOT
PROBE_ERRNO(EDQUOT)
#endif
#ifdef ENOMEDIUM
PROBE_ERRNO(ENOMEDIUM)
#endif
#ifdef EMEDIUMTYPE
PROBE_ERRNO(EMEDIUMTYPE)
#endif
#ifdef ECANCELED
PROBE_ERRNO(ECANCELED)
#endif
#ifdef ENOKEY
PROBE_ERRNO(ENOKEY)
#endif
#ifdef EKEYEXPIRED
PROBE_ERRNO(EKEYEXPIRED)
#endif
#ifdef EKEYREVOKED
PROBE_ERRNO(EKEYREVOKED)
#endif
#ifdef EKEYREJECTED
PROBE_ERRNO(EKEYREJECTED)
#endif
#ifdef EOWNERDEAD
PROBE_ERRNO(EOWNERDEAD)
#endif
#ifdef ENOTRECOVERABLE
PROBE_ERRNO(ENOTRECOVERABLE)
#endif
#ifdef ERFKILL
PROBE_ERRNO(ERFKILL)
#endif
#ifdef EHWPOISON
PROBE_ERRNO(EHWPOISON)
#endif
/* MIPS-only names */
#ifdef EINIT
PROBE_ERRNO(EINIT)
#endif
#ifdef EREMDEV
PROBE_ERRNO(EREMDEV)
#endif

/* No libc defines union semun (_SEM_SEMUN_UNDEFINED): the caller does. It is
 * passed by value as semctl's 4th argument; `val` at byte 0 of a
 * pointer-sized union is the high half of the register on big-endian 64-bit
 * targets. The same union in both modes. */
union probe_semun { int val; void *buf; unsigned short *array; };
PROBE_NUM("sizeof.semun", sizeof(union probe_semun))
PROBE_NUM("align.semun", _Alignof(union probe_semun))
PROBE_NUM("field.semun.val.offset", __builtin_offsetof(union probe_semun, val))
PROBE_NUM("field.semun.val.size", sizeof(((union probe_semun *)0)->val))
PROBE_NUM("field.semun.val.signed", 1)
PROBE_NUM("field.semun.buf.offset", __builtin_offsetof(union probe_semun, buf))
PROBE_NUM("field.semun.buf.size", sizeof(((union probe_semun *)0)->buf))
PROBE_NUM("field.semun.buf.signed", 0)
PROBE_NUM("field.semun.array.offset", __builtin_offsetof(union probe_semun, array))
PROBE_NUM("field.semun.array.size", sizeof(((union probe_semun *)0)->array))
PROBE_NUM("field.semun.array.signed", 0)

/* The caller's struct sembuf array (semop), and struct seminfo / msginfo
 * (IPC_INFO, SEM_INFO, MSG_INFO) go to the kernel as they are in both libcs:
 * probed in both modes, the generator requires them equal. */
PROBE_SIZEOF(sembuf)
PROBE_FIELD(sembuf, sem_num, sem_num)
PROBE_FIELD(sembuf, sem_op, sem_op)
PROBE_FIELD(sembuf, sem_flg, sem_flg)

PROBE_SIZEOF(seminfo)
PROBE_FIELD(seminfo, semmap, semmap)
PROBE_FIELD(seminfo, semmni, semmni)
PROBE_FIELD(seminfo, semmns, semmns)
PROBE_FIELD(seminfo, semmnu, semmnu)
PROBE_FIELD(seminfo, semmsl, semmsl)
PROBE_FIELD(seminfo, semopm, semopm)
PROBE_FIELD(seminfo, semume, semume)
PROBE_FIELD(seminfo, semusz, semusz)
PROBE_FIELD(seminfo, semvmx, semvmx)
PROBE_FIELD(seminfo, semaem, semaem)

PROBE_SIZEOF(msginfo)
PROBE_FIELD(msginfo, msgpool, msgpool)
PROBE_FIELD(msginfo, msgmap, msgmap)
PROBE_FIELD(msginfo, msgmax, msgmax)
PROBE_FIELD(msginfo, msgmnb, msgmnb)
PROBE_FIELD(msginfo, msgmni, msgmni)
PROBE_FIELD(msginfo, msgssz, msgssz)
PROBE_FIELD(msginfo, msgtql, msgtql)
PROBE_FIELD(msginfo, msgseg, msgseg)

#if defined(PROBE_MODE_KERNEL)
/* ------------------------------------------------------------------ */
/* Kernel-only part: the structs the kernel really reads and writes.   */
/* ------------------------------------------------------------------ */

PROBE_NUM("info.linux_version_code", LINUX_VERSION_CODE)
#ifdef LINUX_VERSION_SUBLEVEL
PROBE_NUM("info.linux_version_major", LINUX_VERSION_MAJOR)
PROBE_NUM("info.linux_version_patchlevel", LINUX_VERSION_PATCHLEVEL)
PROBE_NUM("info.linux_version_sublevel", LINUX_VERSION_SUBLEVEL)
#endif

PROBE_SIZEOF(ipc64_perm)
PROBE_FIELD(ipc64_perm, key, key)
PROBE_FIELD(ipc64_perm, uid, uid)
PROBE_FIELD(ipc64_perm, gid, gid)
PROBE_FIELD(ipc64_perm, cuid, cuid)
PROBE_FIELD(ipc64_perm, cgid, cgid)
PROBE_FIELD(ipc64_perm, mode, mode)
PROBE_FIELD(ipc64_perm, seq, seq)

PROBE_SIZEOF(shmid64_ds)
PROBE_AGGREGATE(shmid64_ds, shm_perm, shm_perm)
PROBE_FIELD(shmid64_ds, shm_segsz, shm_segsz)
PROBE_FIELD(shmid64_ds, shm_atime, shm_atime)
PROBE_FIELD(shmid64_ds, shm_dtime, shm_dtime)
PROBE_FIELD(shmid64_ds, shm_ctime, shm_ctime)
PROBE_FIELD(shmid64_ds, shm_cpid, shm_cpid)
PROBE_FIELD(shmid64_ds, shm_lpid, shm_lpid)
PROBE_FIELD(shmid64_ds, shm_nattch, shm_nattch)

/* Never the uapi `struct semid_ds` / `struct msqid_ds` of <linux/sem.h> and
 * <linux/msg.h>: those are the old IPC_OLD layouts (16-bit msg_qnum...). The
 * *_high words (32-bit kernels) are in OPTIONAL_FIELDS. */
PROBE_SIZEOF(semid64_ds)
PROBE_AGGREGATE(semid64_ds, sem_perm, sem_perm)
PROBE_FIELD(semid64_ds, sem_otime, sem_otime)
PROBE_FIELD(semid64_ds, sem_ctime, sem_ctime)
PROBE_FIELD(semid64_ds, sem_nsems, sem_nsems)

PROBE_SIZEOF(msqid64_ds)
PROBE_AGGREGATE(msqid64_ds, msg_perm, msg_perm)
PROBE_FIELD(msqid64_ds, msg_stime, msg_stime)
PROBE_FIELD(msqid64_ds, msg_rtime, msg_rtime)
PROBE_FIELD(msqid64_ds, msg_ctime, msg_ctime)
PROBE_FIELD(msqid64_ds, msg_cbytes, msg_cbytes)
PROBE_FIELD(msqid64_ds, msg_qnum, msg_qnum)
PROBE_FIELD(msqid64_ds, msg_qbytes, msg_qbytes)
PROBE_FIELD(msqid64_ds, msg_lspid, msg_lspid)
PROBE_FIELD(msqid64_ds, msg_lrpid, msg_lrpid)

/* What futex_waitv(2) reads: an array of these (<linux/futex.h>, Linux 5.16+;
 * no libc header declares it). */
PROBE_SIZEOF(futex_waitv)
PROBE_FIELD(futex_waitv, val, val)
PROBE_FIELD(futex_waitv, uaddr, uaddr)
PROBE_FIELD(futex_waitv, flags, flags)

/* futex_waitv's timeout: always the 64-bit __kernel_timespec, also on 32-bit
 * targets whose libc timespec is 32-bit. */
PROBE_SIZEOF(__kernel_timespec)
PROBE_FIELD(__kernel_timespec, tv_sec, tv_sec)
PROBE_FIELD(__kernel_timespec, tv_nsec, tv_nsec)

/* The kernel's sockaddr_un, to check the libc one against. */
PROBE_SIZEOF(sockaddr_un)
PROBE_FIELD(sockaddr_un, sun_family, sun_family)
PROBE_AGGREGATE(sockaddr_un, sun_path, sun_path)

#ifdef __NR_futex
PROBE_SYSCALL(futex, __NR_futex)
#endif
#ifdef __NR_futex_waitv
PROBE_SYSCALL(futex_waitv, __NR_futex_waitv)
#endif
#ifdef __NR_futex_time64
PROBE_SYSCALL(futex_time64, __NR_futex_time64)
#endif
#ifdef __NR_getpid
PROBE_SYSCALL(getpid, __NR_getpid)
#endif
#ifdef __NR_gettid
PROBE_SYSCALL(gettid, __NR_gettid)
#endif
#ifdef __NR_pidfd_open
PROBE_SYSCALL(pidfd_open, __NR_pidfd_open)
#endif
#ifdef __NR_kill
PROBE_SYSCALL(kill, __NR_kill)
#endif
#ifdef __NR_tgkill
PROBE_SYSCALL(tgkill, __NR_tgkill)
#endif

#else /* libc mode */
/* ------------------------------------------------------------------ */
/* libc part: the structs as the library's callers see them.           */
/* ------------------------------------------------------------------ */

#ifdef __GLIBC__
PROBE_NUM("info.glibc_major", __GLIBC__)
PROBE_NUM("info.glibc_minor", __GLIBC_MINOR__)
#endif
PROBE_NUM("info.sizeof_time_t", sizeof(time_t))

/* key and seq are spelled differently by glibc and musl: see OPTIONAL_FIELDS */
PROBE_SIZEOF(ipc_perm)
PROBE_FIELD(ipc_perm, uid, uid)
PROBE_FIELD(ipc_perm, gid, gid)
PROBE_FIELD(ipc_perm, cuid, cuid)
PROBE_FIELD(ipc_perm, cgid, cgid)
PROBE_FIELD(ipc_perm, mode, mode)

/* the legacy 32-bit *_high words are in OPTIONAL_FIELDS */
PROBE_SIZEOF(shmid_ds)
PROBE_AGGREGATE(shmid_ds, shm_perm, shm_perm)
PROBE_FIELD(shmid_ds, shm_segsz, shm_segsz)
PROBE_FIELD(shmid_ds, shm_atime, shm_atime)
PROBE_FIELD(shmid_ds, shm_dtime, shm_dtime)
PROBE_FIELD(shmid_ds, shm_ctime, shm_ctime)
PROBE_FIELD(shmid_ds, shm_cpid, shm_cpid)
PROBE_FIELD(shmid_ds, shm_lpid, shm_lpid)
PROBE_FIELD(shmid_ds, shm_nattch, shm_nattch)

/* the glibc 32-bit __sem_*time_high words (and x86-64's reserved words of the
 * same name) are in OPTIONAL_FIELDS */
PROBE_SIZEOF(semid_ds)
PROBE_AGGREGATE(semid_ds, sem_perm, sem_perm)
PROBE_FIELD(semid_ds, sem_otime, sem_otime)
PROBE_FIELD(semid_ds, sem_ctime, sem_ctime)
PROBE_FIELD(semid_ds, sem_nsems, sem_nsems)

/* msg_cbytes (glibc: __msg_cbytes) and the __msg_*time_high words are in
 * OPTIONAL_FIELDS */
PROBE_SIZEOF(msqid_ds)
PROBE_AGGREGATE(msqid_ds, msg_perm, msg_perm)
PROBE_FIELD(msqid_ds, msg_stime, msg_stime)
PROBE_FIELD(msqid_ds, msg_rtime, msg_rtime)
PROBE_FIELD(msqid_ds, msg_ctime, msg_ctime)
PROBE_FIELD(msqid_ds, msg_qnum, msg_qnum)
PROBE_FIELD(msqid_ds, msg_qbytes, msg_qbytes)
PROBE_FIELD(msqid_ds, msg_lspid, msg_lspid)
PROBE_FIELD(msqid_ds, msg_lrpid, msg_lrpid)

PROBE_SIZEOF(shminfo)
PROBE_FIELD(shminfo, shmmax, shmmax)
PROBE_FIELD(shminfo, shmmin, shmmin)
PROBE_FIELD(shminfo, shmmni, shmmni)
PROBE_FIELD(shminfo, shmseg, shmseg)
PROBE_FIELD(shminfo, shmall, shmall)

/* used_ids, swap_attempts, swap_successes are in OPTIONAL_FIELDS */
PROBE_SIZEOF(shm_info)
PROBE_FIELD(shm_info, shm_tot, shm_tot)
PROBE_FIELD(shm_info, shm_rss, shm_rss)
PROBE_FIELD(shm_info, shm_swp, shm_swp)

PROBE_SIZEOF(timespec)
PROBE_FIELD(timespec, tv_sec, tv_sec)
PROBE_FIELD(timespec, tv_nsec, tv_nsec)

/* bind(2)/connect(2) address of an AF_UNIX socket; sun_path is a char array */
PROBE_SIZEOF(sockaddr_un)
PROBE_FIELD(sockaddr_un, sun_family, sun_family)
PROBE_AGGREGATE(sockaddr_un, sun_path, sun_path)

/* SHMLBA: glibc writes it with __getpagesize (); make that call a known
 * multiplier and evaluate twice. If the value scales with the multiplier it
 * is a number of pages, otherwise it is a plain byte count. */
#ifdef SHMLBA
#  undef __getpagesize
#  define __getpagesize() PROBE_PAGE_UNIT
#  define PROBE_PAGE_UNIT 1
PROBE_NUM("shmlba.unit1", SHMLBA)
#  undef PROBE_PAGE_UNIT
#  define PROBE_PAGE_UNIT 2
PROBE_NUM("shmlba.unit2", SHMLBA)
#  undef PROBE_PAGE_UNIT
#endif

#ifdef SYS_futex
PROBE_SYSCALL(futex, SYS_futex)
#endif
#ifdef SYS_futex_waitv
PROBE_SYSCALL(futex_waitv, SYS_futex_waitv)
#endif
#ifdef SYS_futex_time64
PROBE_SYSCALL(futex_time64, SYS_futex_time64)
#endif
#ifdef SYS_getpid
PROBE_SYSCALL(getpid, SYS_getpid)
#endif
#ifdef SYS_gettid
PROBE_SYSCALL(gettid, SYS_gettid)
#endif
#ifdef SYS_pidfd_open
PROBE_SYSCALL(pidfd_open, SYS_pidfd_open)
#endif
#ifdef SYS_kill
PROBE_SYSCALL(kill, SYS_kill)
#endif
#ifdef SYS_tgkill
PROBE_SYSCALL(tgkill, SYS_tgkill)
#endif

/* The libc entry points the library binds to. Headers may redirect them
 * (glibc -D_TIME_BITS=64: shmctl -> __shmctl64, semctl -> __semctl64,
 * semtimedop -> __semtimedop64, msgctl -> __msgctl64; musl time64:
 * __shmctl_time64...); the generator reads the undefined symbols of the object
 * file to learn the real names. */
__attribute__((used)) static void *const probe_symbol_refs[] = {
    (void *)&shmget, (void *)&shmat, (void *)&shmdt, (void *)&shmctl,
    (void *)&semget, (void *)&semop, (void *)&semtimedop, (void *)&semctl,
    (void *)&msgget, (void *)&msgsnd, (void *)&msgrcv, (void *)&msgctl,
};

#endif /* libc mode */
#endif /* modes */
