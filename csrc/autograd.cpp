// Autograd kernels. The forward's gradient is the backward operator; the
// backward operator's gradient is again a combination of the two operators
// (every map here is linear in each argument), so derivatives of any order
// and forward-mode AD (jvp) use our kernels only:
//   y  = T(x, w) + b                      (T: transposed convolution)
//   gi = T_x*(gy; w), gw = T_w*(gy; x), gb = sum(gy)     (* : adjoint)
// Backward of the backward, for incoming (ggi, ggw, ggb):
//   d gy = T(ggi, w) + ggb + T(x, ggw),  d x = T_x*(gy; ggw),  d w = T_w*(gy; ggi)
// Tangents (dx, dw, db, dgy):
//   dy  = T(dx, w) + db + T(x, dw)
//   dgi = T_x*(dgy; w) + T_x*(gy; dw),  dgw = T_w*(dgy; x) + T_w*(gy; dx),  dgb = sum(dgy)

#include <ATen/FuncTorchTLS.h>
#include <ATen/core/grad_mode.h>
#include <torch/autograd.h>
#include <torch/version.h>

#include "ops.h"

namespace gemm_convt {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The convolution's arguments, kept in ctx->saved_data.
struct Geometry {
  std::vector<int64_t> stride, padding, output_padding, dilation;
  int64_t groups;

  void save(AutogradContext* ctx) const {
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["output_padding"] = output_padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["groups"] = groups;
  }
  static Geometry load(AutogradContext* ctx) {
    return {ctx->saved_data["stride"].toIntVector(), ctx->saved_data["padding"].toIntVector(),
            ctx->saved_data["output_padding"].toIntVector(),
            ctx->saved_data["dilation"].toIntVector(), ctx->saved_data["groups"].toInt()};
  }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& w,
                     const c10::optional<at::Tensor>& b) const {
    return call_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups);
  }
  Grads backward(const at::Tensor& gy, const at::Tensor& x, const at::Tensor& w,
                 std::array<bool, 3> mask) const {
    return call_conv_transpose2d_backward(gy, x, w, stride, padding, output_padding, dilation,
                                          groups, mask);
  }
};

Geometry geometry(at::IntArrayRef stride, at::IntArrayRef padding,
                  at::IntArrayRef output_padding, at::IntArrayRef dilation, int64_t groups) {
  return {stride.vec(), padding.vec(), output_padding.vec(), dilation.vec(), groups};
}

at::Tensor sum_defined(const at::Tensor& a, const at::Tensor& b) {
  return !a.defined() ? b : (!b.defined() ? a : a + b);
}

// A per-channel vector b as a tensor shaped like `like` (batched or not).
at::Tensor broadcast_bias(const at::Tensor& b, const at::Tensor& like) {
  return at::zeros_like(like) + (like.dim() == 4 ? b.view({1, -1, 1, 1}) : b.view({-1, 1, 1}));
}

// The tensors a Function saves, passed beside its tensor arguments: under
// forward-mode AD these are the dual tensors (their tangents are saved too,
// which forward-over-reverse needs), while the Function itself receives the
// primals (C++ Functions have no jvp of their own).
struct ToSave {
  std::vector<at::Tensor> tensors;
};

class ConvTranspose2dFunction : public torch::autograd::Function<ConvTranspose2dFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input,
                            const at::Tensor& weight, const c10::optional<at::Tensor>& bias,
                            const Geometry& geo, const ToSave& to_save) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    ctx->save_for_backward(to_save.tensors);
    ctx->saved_data["has_bias"] = bias.has_value() && bias->defined();
    geo.save(ctx);
    return geo.forward(input, weight, bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const Geometry geo = Geometry::load(ctx);
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    // Edges exist for tensor arguments only: bias is edge 2 when present.
    const std::array<bool, 3> mask = {ctx->needs_input_grad(0), ctx->needs_input_grad(1),
                                      has_bias && ctx->needs_input_grad(2)};
    const Grads g = geo.backward(grads[0], saved[0], saved[1], mask);
    return {std::get<0>(g), std::get<1>(g), std::get<2>(g), at::Tensor(), at::Tensor()};
  }
};

// Returns the requested gradients only (a custom Function's outputs must be
// defined tensors), in the order grad_input, grad_weight, grad_bias.
class ConvTranspose2dBackwardFunction
    : public torch::autograd::Function<ConvTranspose2dBackwardFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& grad_output,
                               const at::Tensor& input, const at::Tensor& weight,
                               const Geometry& geo, std::array<bool, 3> mask,
                               const ToSave& to_save) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    ctx->save_for_backward(to_save.tensors);
    ctx->set_materialize_grads(false);  // unused outputs get no gradient tensor
    ctx->saved_data["mask"] = c10::List<bool>({mask[0], mask[1], mask[2]});
    geo.save(ctx);
    const Grads g = geo.backward(grad_output, input, weight, mask);
    variable_list out;
    for (const at::Tensor& t : {std::get<0>(g), std::get<1>(g), std::get<2>(g)})
      if (t.defined()) out.push_back(t);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &gy = saved[0], &x = saved[1], &w = saved[2];
    const Geometry geo = Geometry::load(ctx);
    const auto mask = ctx->saved_data["mask"].toBoolList();
    at::Tensor incoming[3];  // gradients w.r.t. grad_input, grad_weight, grad_bias
    size_t k = 0;
    for (size_t i = 0; i < 3; ++i)
      if (mask.get(i)) incoming[i] = grads[k++];
    const at::Tensor &ggi = incoming[0], &ggw = incoming[1], &ggb = incoming[2];

    at::Tensor d_gy, d_x, d_w;
    if (ctx->needs_input_grad(0)) {
      const c10::optional<at::Tensor> bias =
          ggb.defined() ? c10::optional<at::Tensor>(ggb) : c10::nullopt;
      if (ggi.defined()) d_gy = geo.forward(ggi, w, bias);
      if (ggw.defined())
        d_gy = sum_defined(d_gy, geo.forward(x, ggw, ggi.defined() ? c10::nullopt : bias));
      if (!d_gy.defined() && ggb.defined()) d_gy = broadcast_bias(ggb, gy);
    }
    if (ctx->needs_input_grad(1) && ggw.defined())
      d_x = std::get<0>(geo.backward(gy, x, ggw, {true, false, false}));
    if (ctx->needs_input_grad(2) && ggi.defined())
      d_w = std::get<1>(geo.backward(gy, ggi, w, {false, true, false}));
    return {d_gy, d_x, d_w, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// torch.func transforms cannot run C++ autograd Functions; torch would say so
// in its own words, deep inside the transform. Say it in ours, with the way
// out (torch.autograd covers every order and forward mode).
// (torch 1.13's functorch does not refuse them, and nested transforms then
// give wrong second derivatives: refused there too.)
void check_no_functorch_transform() {
  const auto& tls = at::functorch::functorchTLSAccessor();
  if (!tls) return;
  bool supported = true;
  try {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
    tls->checkSupportsCppAutogradFunction();
#else
    tls->checkSupportsAutogradFunction();
#endif
  } catch (const c10::Error&) {
    supported = false;
  }
  TORCH_CHECK(supported,
              "gemm_convt.conv_transpose2d: torch.func transforms (grad, vjp, jvp, jacrev, "
              "jacfwd, hessian, vmap) are not supported, but one is active. Use "
              "torch.autograd.grad (any order, create_graph=True) or "
              "torch.autograd.forward_ad (jvp), which gemm_convt supports.");
}

// Forward-mode AD: the primal goes through the Function above (with the
// tangents stripped: C++ Functions have no jvp), the tangent is set here.
bool has_tangent(const at::Tensor& t) { return t.defined() && t._fw_grad(0).defined(); }
at::Tensor primal(const at::Tensor& t) { return has_tangent(t) ? t._fw_primal(0) : t; }
at::Tensor tangent(const at::Tensor& t) { return has_tangent(t) ? t._fw_grad(0) : at::Tensor(); }

}  // namespace

at::Tensor conv_transpose2d_autograd(const at::Tensor& input, const at::Tensor& weight,
                                     const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                     at::IntArrayRef padding, at::IntArrayRef output_padding,
                                     at::IntArrayRef dilation, int64_t groups) {
  check_no_functorch_transform();
  const Geometry geo = geometry(stride, padding, output_padding, dilation, groups);
  const at::Tensor b = bias.has_value() ? *bias : at::Tensor();
  const ToSave to_save{{input, weight}};
  if (!has_tangent(input) && !has_tangent(weight) && !has_tangent(b))
    return ConvTranspose2dFunction::apply(input, weight, bias, geo, to_save);

  const at::Tensor x = primal(input), w = primal(weight), bp = primal(b);
  at::Tensor out = ConvTranspose2dFunction::apply(
      x, w, bp.defined() ? c10::optional<at::Tensor>(bp) : c10::nullopt, geo, to_save);
  const at::Tensor dx = tangent(input), dw = tangent(weight), db = tangent(b);
  const c10::optional<at::Tensor> db_opt =
      db.defined() ? c10::optional<at::Tensor>(db) : c10::nullopt;
  at::Tensor dy;
  if (dx.defined()) dy = geo.forward(dx, w, db_opt);
  if (dw.defined()) dy = sum_defined(dy, geo.forward(x, dw, dx.defined() ? c10::nullopt : db_opt));
  if (!dy.defined()) dy = broadcast_bias(db, out);  // only the bias has a tangent
  out._set_fw_grad(dy, /*level=*/0, /*is_inplace_op=*/false);
  return out;
}

Grads conv_transpose2d_backward_autograd(const at::Tensor& grad_output, const at::Tensor& input,
                                         const at::Tensor& weight, at::IntArrayRef stride,
                                         at::IntArrayRef padding, at::IntArrayRef output_padding,
                                         at::IntArrayRef dilation, int64_t groups,
                                         std::array<bool, 3> output_mask) {
  check_no_functorch_transform();
  const Geometry geo = geometry(stride, padding, output_padding, dilation, groups);
  const bool forward_ad = has_tangent(grad_output) || has_tangent(input) || has_tangent(weight);
  const at::Tensor gy = primal(grad_output), x = primal(input), w = primal(weight);
  const variable_list g = ConvTranspose2dBackwardFunction::apply(
      gy, x, w, geo, output_mask, ToSave{{grad_output, input, weight}});
  at::Tensor r[3];
  size_t k = 0;
  for (size_t i = 0; i < 3; ++i)
    if (output_mask[i]) r[i] = g[k++];
  Grads result{r[0], r[1], r[2]};
  if (!forward_ad) return result;

  const at::Tensor dgy = tangent(grad_output), dx = tangent(input), dw = tangent(weight);
  Grads from_dgy;
  if (dgy.defined()) from_dgy = geo.backward(dgy, x, w, output_mask);
  if (output_mask[0]) {
    at::Tensor t = std::get<0>(from_dgy);
    if (dw.defined()) t = sum_defined(t, std::get<0>(geo.backward(gy, x, dw, {true, false, false})));
    if (t.defined()) std::get<0>(result)._set_fw_grad(t, 0, false);
  }
  if (output_mask[1]) {
    at::Tensor t = std::get<1>(from_dgy);
    if (dx.defined()) t = sum_defined(t, std::get<1>(geo.backward(gy, dx, w, {false, true, false})));
    if (t.defined()) std::get<1>(result)._set_fw_grad(t, 0, false);
  }
  if (output_mask[2] && std::get<2>(from_dgy).defined())
    std::get<2>(result)._set_fw_grad(std::get<2>(from_dgy), 0, false);
  return result;
}

}  // namespace gemm_convt
