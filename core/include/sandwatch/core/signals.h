// Signal (rule) names. The six seed signals are fixed by the contract:
// reports and bars count them by these exact names.
#pragma once

#include <array>
#include <string_view>

namespace sandwatch::signals {

inline constexpr std::string_view kUnexpectedShell = "unexpected_shell";
inline constexpr std::string_view kShadowFileAccess = "shadow_file_access";
inline constexpr std::string_view kAwsCredentialDiscovery = "aws_credential_discovery";
inline constexpr std::string_view kPackageManagerExecution = "package_manager_execution";
inline constexpr std::string_view kPostStartBinaryExecution = "post_start_binary_execution";
inline constexpr std::string_view kNcExecution = "nc_execution";
inline constexpr std::string_view kReverseShell = "reverse_shell";
inline constexpr std::string_view kSuspiciousOutboundConnection = "suspicious_outbound_connection";
inline constexpr std::string_view kSuspiciousProcessChain = "suspicious_process_chain";
// Raised by the receiver, not by a sensor.
inline constexpr std::string_view kSensorSilent = "sensor_silent";

inline constexpr std::array<std::string_view, 6> kSeedSignals = {
    kUnexpectedShell,         kShadowFileAccess,         kAwsCredentialDiscovery,
    kPackageManagerExecution, kPostStartBinaryExecution, kNcExecution};

bool IsSeedSignal(std::string_view name);

}  // namespace sandwatch::signals
